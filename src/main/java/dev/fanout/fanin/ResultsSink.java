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
}
