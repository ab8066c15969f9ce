package dev.fanout.fanin;

import java.time.Duration;

/**
 * Results handed to a sink one at a time, as their records' outcomes become final, and sent while the batch
 * still runs. Indexes are the batch's record indexes; a result is offered at most once per index (a second
 * offer of an index is ignored). Thread-safe: offers may come from many threads at once.
 */
public interface ResultStream {

    /**
     * Hands over the result of record {@code index}. With a FIFO results queue, {@code after} is the index of
     * the previous result of the same message group (or -1): this one is sent only once that one is
     * confirmed, and not at all if that one is not, whatever order the two are offered in.
     */
    void offer(int index, ResultMessage message, int after);

    /**
     * No more offers: waits until every offered result is confirmed or has failed, or until the stream's
     * deadline, and says what became of each index. What is unconfirmed then stays undelivered.
     */
    Delivery close();

    /** The given percentile of the time from a result's offer to its confirmation, over confirmed results (after {@link #close}). */
    Duration confirmationLag(int percent);
}
