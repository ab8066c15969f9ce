package dev.fanout.fanin;

import java.util.List;

import dev.fanout.engine.Deadline;

/** Where results go. Implementations retry what failed while the deadline allows, and never throw. */
public interface ResultsSink {

    /**
     * Sends {@code messages} and says, for each one, whether it is durably stored. Returns by
     * {@code deadline}.
     */
    Delivery deliver(List<ResultMessage> messages, Deadline deadline);

    /**
     * A stream for the results of a batch of {@code capacity} records, sent as they are offered, by
     * {@code deadline}. The caller must {@link ResultStream#close()} it.
     */
    ResultStream open(int capacity, Deadline deadline);
}
