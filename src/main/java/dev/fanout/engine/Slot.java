package dev.fanout.engine;

/**
 * An item's place in the run's bound ({@link Limits#maxConcurrency()}), for a handler that must wait for
 * something outside the engine, such as a permit of the downstream service it calls. While it waits, the item
 * need not keep another item from running: {@link #release} gives the place back (the run starts the next ready
 * item in it) and {@link #reacquire} takes one again, ahead of every item not started yet. The bound counts items
 * that hold a place; an item between the two calls is parked: it keeps its thread and its outcome to come, and
 * counts in no bound.
 * <p>
 * The calls come in pairs, on the item's own thread. A parked item is cancelled like a running one: at the
 * cut-off or at its own timeout, its thread is interrupted and {@link #reacquire} throws. If it was released as
 * {@code unstarted}, its outcome is then {@link Outcome.NotStarted} ({@link Outcome.NotStarted.Reason#NOT_ADMITTED}),
 * not timed out: it has done nothing that must not be done again.
 */
public interface Slot {

    /** The place of an item that never parks: both calls do nothing. */
    Slot HELD = new Slot() {
        @Override
        public void release(boolean unstarted) {
        }

        @Override
        public void reacquire() {
        }
    };

    /**
     * Gives the item's place back to the run while it waits outside the engine.
     *
     * @param unstarted the item has done nothing yet that must not be done again: cut off while parked, it is not
     *                  started rather than timed out
     * @throws IllegalStateException if the item is parked already
     */
    void release(boolean unstarted);

    /**
     * Takes a place again, ahead of the items not started yet; blocks until one is free.
     *
     * @throws InterruptedException if the item is cancelled (cut-off or item timeout) first: the item is still
     *                              parked, and its outcome is already set
     * @throws IllegalStateException if the item is not parked
     */
    void reacquire() throws InterruptedException;
}
