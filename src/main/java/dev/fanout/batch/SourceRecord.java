package dev.fanout.batch;

import java.util.Optional;

/**
 * One record of a queue's batch, as the batch layer sees it; the entry point translates its event's records
 * into these.
 *
 * @param messageId       the source's id of the record; null if it came without one
 * @param body            the record's body: one item
 * @param group           its message group, on a FIFO source only
 * @param receiveCount    how often the source has delivered it, if known
 * @param queuedBatchId   the batch id of an item the HTTP entry point queued ({@link QueuedBatch#BATCH_ID_ATTRIBUTE}), or null
 * @param queuedItemIndex that item's index in its request, as the record carries it, or null
 */
public record SourceRecord(String messageId, String body, Optional<String> group, Integer receiveCount,
        String queuedBatchId, String queuedItemIndex) {
}
