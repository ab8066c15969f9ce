package dev.fanout.engine;

import java.time.Duration;

/**
 * What a handler gets for one item: the item, its deadline and its cancellation signal, like Go's
 * {@code ctx}. Pass {@link #remaining()} to the timeouts of your own I/O.
 *
 * @param item         the item
 * @param index        its position in the batch
 * @param deadline     the item's own deadline: the cut-off, or its start plus the item timeout if earlier
 * @param cancellation cancelled at that deadline (the engine interrupts the thread too)
 * @param slot         the item's place in the run's bound, which it may give back while it waits outside the
 *                     engine ({@link Slot})
 */
public record ItemContext<I>(I item, int index, Deadline deadline, Cancellation cancellation, Slot slot) {

    /** The context of an item that holds its place until it ends ({@link Slot#HELD}). */
    public ItemContext(I item, int index, Deadline deadline, Cancellation cancellation) {
        this(item, index, deadline, cancellation, Slot.HELD);
    }

    /** Time left before this item is cancelled. */
    public Duration remaining() {
        return deadline.remaining();
    }
}
