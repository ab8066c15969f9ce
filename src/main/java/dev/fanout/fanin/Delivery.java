package dev.fanout.fanin;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What became of the messages handed to a {@link ResultsSink}, by index, and the figures of the
 * sending.
 *
 * @param failures    for each message, null if it is durably on the queue, else why not
 * @param requests    SendMessageBatch calls made
 * @param retries     calls that sent entries again (after a failure, a throttle, or as the halves of a request SQS
 *                    refused whole), counted as each such call is made
 * @param throttled   calls or entries refused for throttling
 * @param messageIds  for each message, the id SQS gave it, or null if it is not on the queue
 * @param refused     results SQS refused as the sender's fault, replaced by a minimal error result
 * @param tooLarge    results over the message limit, sent in their smaller form (the output dropped)
 * @param unreachable the queue could not be reached and the delivery stopped early
 */
public record Delivery(List<String> failures, int requests, int retries, int throttled, List<String> messageIds,
        int refused, int tooLarge, boolean unreachable) {

    public Delivery {
        failures = Collections.unmodifiableList(new ArrayList<>(failures));
        messageIds = Collections.unmodifiableList(new ArrayList<>(messageIds));
    }

    public Delivery(List<String> failures, int requests, int retries, int throttled) {
        this(failures, requests, retries, throttled, Collections.nCopies(failures.size(), null), 0, 0, false);
    }

    public Delivery(List<String> failures, int requests, int retries, int throttled, List<String> messageIds) {
        this(failures, requests, retries, throttled, messageIds, 0, 0, false);
    }

    /** The id SQS gave message {@code index}, or null if it was not delivered. */
    public String messageId(int index) {
        return messageIds.get(index);
    }

    public boolean delivered(int index) {
        return failures.get(index) == null;
    }

    public int deliveredCount() {
        return (int) failures.stream().filter(f -> f == null).count();
    }
}
