package dev.fanout.work;

import java.time.Duration;
import java.util.Optional;

import dev.fanout.engine.Cancellation;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.ItemContext;

/**
 * What a function may ask about the item it runs for: declare a parameter
 * {@code @io.quarkus.funqy.Context WorkContext item} beside its input. It gives the item's id and group, its
 * deadline and time left (pass {@link #remaining()} to the timeouts of your own I/O) and its cancellation,
 * which fires at that deadline (the engine interrupts the item's thread too). A function that does not ask
 * for it does not pay for it: it is built only for functions that declare it.
 */
public final class WorkContext {

    private final WorkItem item;
    private final ItemContext<?> engineContext;

    WorkContext(WorkItem item, ItemContext<?> engineContext) {
        this.item = item;
        this.engineContext = engineContext;
    }

    /** The item's id: its own, or the SQS message id when its body names none. */
    public String id() {
        return item.id();
    }

    /** The function's name the item named. */
    public String type() {
        return item.type();
    }

    /** The FIFO group the item runs in, if any. */
    public Optional<String> group() {
        return item.group();
    }

    /** The item's deadline: the batch's cut-off, or its own timeout if that comes first. */
    public Deadline deadline() {
        return engineContext.deadline();
    }

    public Duration remaining() {
        return engineContext.remaining();
    }

    public Cancellation cancellation() {
        return engineContext.cancellation();
    }
}
