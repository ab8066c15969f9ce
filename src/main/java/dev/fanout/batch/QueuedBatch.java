package dev.fanout.batch;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;

import dev.fanout.engine.Deadline;
import dev.fanout.fanin.Delivery;
import dev.fanout.fanin.ResultMessage;
import dev.fanout.fanin.ResultsSink;
import dev.fanout.fanin.SqsResultsSink;

/**
 * Queued mode: the items of one HTTP request put on the work queue, one message each, for the SQS entry
 * point to run like any other record. Each message carries the batch's id and the item's index as
 * message attributes; the SQS entry point copies both into the item's result, so a client finds its
 * results on the results queue by batch id.
 * <p>
 * The messages go out with SendMessageBatch through a {@link ResultsSink} pointed at the work queue, which
 * retries Failed entries, throttles and 5xx answers within the deadline. What is still not on the queue
 * at the end is listed with its reason: nothing is dropped silently. A FIFO work queue gets a group per
 * message (the item's {@code group} if it has one, so that its order holds) and a deduplication id
 * made of the batch id and the index.
 */
public final class QueuedBatch {

    /** The message attribute with the batch id, on work items and on their results. */
    public static final String BATCH_ID_ATTRIBUTE = "fanout.batchId";
    /** The message attribute with the item's index in its request. */
    public static final String ITEM_INDEX_ATTRIBUTE = "fanout.itemIndex";

    /** What became of one item: queued with its message id, or not, with the reason. */
    public record Entry(int index, String messageId, String reason, boolean retryable) {

        public boolean queued() {
            return messageId != null;
        }
    }

    /** The batch's id, one entry per item in input order, and the sending's figures. */
    public record Receipt(String batchId, List<Entry> entries, int requests, int retries) {

        public int queued() {
            return (int) entries.stream().filter(Entry::queued).count();
        }
    }

    private final ResultsSink workQueue;
    private final boolean fifo;

    /**
     * @param workQueue sends to the work queue
     * @param fifo      the work queue is FIFO: messages need a group and a deduplication id
     */
    public QueuedBatch(ResultsSink workQueue, boolean fifo) {
        this.workQueue = workQueue;
        this.fifo = fifo;
    }

    /** Warms the work queue's client (see {@link SqsResultsSink#warmUp()}); says how the queue answered. */
    public String warmUp() {
        return workQueue instanceof SqsResultsSink sqs ? sqs.warmUp() : "not an SQS queue";
    }

    /**
     * Queues the items that were not refused up front.
     *
     * @param items    each item's JSON as the request carried it
     * @param groups   each item's FIFO group, if any
     * @param refusals for each item, why it is not queued (malformed), or null
     * @param deadline when the sending must be over
     */
    public Receipt queue(List<JsonNode> items, List<Optional<String>> groups, List<String> refusals, Deadline deadline) {
        String batchId = UUID.randomUUID().toString();
        List<ResultMessage> messages = new ArrayList<>();
        List<Integer> indexOf = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            if (refusals.get(i) != null) {
                continue;
            }
            String key = batchId + "-" + i;
            Map<String, String> attributes = Map.of(BATCH_ID_ATTRIBUTE, batchId, ITEM_INDEX_ATTRIBUTE, Integer.toString(i));
            messages.add(new ResultMessage(items.get(i).toString(), attributes,
                    fifo ? Optional.of(groups.get(i).orElse(key)) : Optional.empty(),
                    fifo ? Optional.of(key) : Optional.empty()));
            indexOf.add(i);
        }
        Delivery delivery = messages.isEmpty() ? new Delivery(List.of(), 0, 0, 0) : workQueue.deliver(messages, deadline);
        List<Entry> entries = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            entries.add(new Entry(i, null, refusals.get(i), false));
        }
        for (int m = 0; m < messages.size(); m++) {
            int i = indexOf.get(m);
            entries.set(i, delivery.delivered(m) ? new Entry(i, delivery.messageId(m), null, false)
                    : new Entry(i, null, "not queued: " + delivery.failures().get(m), true));
        }
        return new Receipt(batchId, entries, delivery.requests(), delivery.retries());
    }

    /**
     * The result of a record that came through queued mode, marked with its batch and index (the record's
     * {@value #BATCH_ID_ATTRIBUTE} and {@value #ITEM_INDEX_ATTRIBUTE} attributes; an index that is not a number
     * is left out).
     */
    static ResultRecord tag(ResultRecord result, String batchId, String itemIndex) {
        if (batchId == null) {
            return result;
        }
        Integer index;
        try {
            index = Integer.valueOf(itemIndex);
        } catch (NumberFormatException e) {
            index = null;
        }
        return result.inBatch(batchId, index);
    }

    /** A result message's attributes: {@code base}, and the batch and index of a queued item. */
    static Map<String, String> attributes(ResultRecord result, Map<String, String> base) {
        if (result.batchId() == null) {
            return base;
        }
        Map<String, String> attributes = new HashMap<>(base);
        attributes.put(BATCH_ID_ATTRIBUTE, result.batchId());
        if (result.itemIndex() != null) {
            attributes.put(ITEM_INDEX_ATTRIBUTE, result.itemIndex().toString());
        }
        return attributes;
    }
}
