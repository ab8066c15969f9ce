package dev.fanout.work;

import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;

import dev.fanout.engine.Cancellation;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.ItemContext;
import dev.fanout.engine.RejectedItemException;

/**
 * What a handler gets for one item: the item, its payload bound to a type, and the item's deadline and
 * cancellation signal (pass {@link #remaining()} to the timeouts of your own I/O).
 */
public final class WorkContext {

    private final WorkItem item;
    private final ItemContext<?> engineContext;
    private final Payloads payloads;

    WorkContext(WorkItem item, ItemContext<?> engineContext, Payloads payloads) {
        this.item = item;
        this.engineContext = engineContext;
        this.payloads = payloads;
    }

    public WorkItem item() {
        return item;
    }

    public JsonNode payload() {
        return item.payload();
    }

    /**
     * The payload bound to {@code type} (a record or bean), with unknown fields refused.
     *
     * @throws RejectedItemException if the payload does not fit {@code type}
     */
    public <T> T payload(Class<T> type) {
        return payloads.bind(item, type);
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
