package dev.fanout.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * What Lambda's SQS event source mapping does, on a local queue: receive up to a batch of messages,
 * invoke the function with them, delete the ones it did not report in {@code batchItemFailures}, and
 * leave the reported ones to come back after the visibility timeout (and, after the queue's
 * maxReceiveCount, to its dead-letter queue).
 */
public final class LocalEventSource {

    /** Figures of one poll-and-invoke round. */
    public record Round(int records, int reported, boolean error, Duration elapsed, boolean beforeDeadline) {
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * When each message was received, by message id, and whether that receive ended with the function's answer
     * handing it back: what a report needs to show a handed-back record's receives growing apart under the
     * redelivery backoff (a receive whose invocation got no answer comes back at the queue's visibility timeout
     * instead). Thread-safe; one per run, shared by the run's event sources.
     */
    public static final class ReceiveTimes {

        /** One receive: when ({@link System#nanoTime()}), and whether the answer handed the message back. */
        public static final class Receive {
            private final long nanos;
            private volatile boolean handedBack;

            Receive(long nanos) {
                this.nanos = nanos;
            }

            public long nanos() {
                return nanos;
            }

            public boolean handedBack() {
                return handedBack;
            }
        }

        private final java.util.concurrent.ConcurrentHashMap<String, List<Receive>> byId =
                new java.util.concurrent.ConcurrentHashMap<>();

        Receive received(String messageId, long nanos) {
            Receive receive = new Receive(nanos);
            byId.computeIfAbsent(messageId, id -> java.util.Collections.synchronizedList(new ArrayList<>())).add(receive);
            return receive;
        }

        /** The receives of a message, in order; empty if it never came. */
        public List<Receive> of(String messageId) {
            List<Receive> receives = byId.get(messageId);
            if (receives == null) {
                return List.of();
            }
            synchronized (receives) {
                return List.copyOf(receives);
            }
        }
    }

    private final SqsClient sqs;
    private final String queueUrl;
    private final String queueArn;
    private final RuntimeApiServer api;
    private final int batchSize;
    private final Duration functionTimeout;

    private final ReceiveTimes receiveTimes;

    public LocalEventSource(SqsClient sqs, String queueUrl, RuntimeApiServer api, int batchSize, Duration functionTimeout) {
        this(sqs, queueUrl, api, batchSize, functionTimeout, new ReceiveTimes());
    }

    /** @param receiveTimes where each receive of a message is noted */
    public LocalEventSource(SqsClient sqs, String queueUrl, RuntimeApiServer api, int batchSize, Duration functionTimeout,
            ReceiveTimes receiveTimes) {
        this.receiveTimes = receiveTimes;
        this.sqs = sqs;
        this.queueUrl = queueUrl;
        this.api = api;
        this.batchSize = batchSize;
        this.functionTimeout = functionTimeout;
        this.queueArn = ElasticMq.attribute(sqs, queueUrl, QueueAttributeName.QUEUE_ARN);
    }

    /** Messages visible or in flight on the source queue. */
    public int outstanding() {
        return Integer.parseInt(ElasticMq.attribute(sqs, queueUrl, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
                + Integer.parseInt(ElasticMq.attribute(sqs, queueUrl, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE));
    }

    /** One round: poll a batch (waiting up to a second for the first message), invoke, delete. Null if nothing came. */
    public Round pollAndInvoke() throws Exception {
        List<Message> batch = new ArrayList<>();
        List<ReceiveTimes.Receive> receives = new ArrayList<>();
        while (batch.size() < batchSize) {
            int want = Math.min(10, batchSize - batch.size());
            var received = sqs.receiveMessage(r -> r.queueUrl(queueUrl).maxNumberOfMessages(want)
                    .waitTimeSeconds(batch.isEmpty() ? 1 : 0).messageSystemAttributeNamesWithStrings("All")
                    .messageAttributeNames("All")).messages();
            if (received.isEmpty()) {
                break;
            }
            long now = System.nanoTime();
            received.forEach(m -> receives.add(receiveTimes.received(m.messageId(), now)));
            batch.addAll(received);
        }
        if (batch.isEmpty()) {
            return null;
        }
        var result = api.invoke(event(batch), functionTimeout);
        Set<String> reported = new HashSet<>();
        if (result.error()) {
            batch.forEach(m -> reported.add(m.messageId())); // an invocation error hands the whole batch back
        } else {
            JsonNode response = MAPPER.readTree(result.body());
            response.path("batchItemFailures").forEach(f -> reported.add(f.get("itemIdentifier").asText()));
            if (reported.contains("") || reported.contains("null")) {
                // Lambda treats an empty or null itemIdentifier as the failure of the whole batch
                batch.forEach(m -> reported.add(m.messageId()));
            }
        }
        if (!result.error()) {
            for (int i = 0; i < batch.size(); i++) {
                receives.get(i).handedBack = reported.contains(batch.get(i).messageId());
            }
        }
        List<DeleteMessageBatchRequestEntry> delete = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            Message m = batch.get(i);
            if (!reported.contains(m.messageId())) {
                delete.add(DeleteMessageBatchRequestEntry.builder().id(Integer.toString(i))
                        .receiptHandle(m.receiptHandle()).build());
            }
        }
        for (int from = 0; from < delete.size(); from += 10) {
            var chunk = delete.subList(from, Math.min(from + 10, delete.size()));
            sqs.deleteMessageBatch(r -> r.queueUrl(queueUrl).entries(chunk));
        }
        return new Round(batch.size(), reported.size(), result.error(), result.elapsed(),
                result.answeredBeforeDeadline());
    }

    /** The event Lambda builds from received messages. */
    String event(List<Message> messages) {
        ObjectNode event = MAPPER.createObjectNode();
        ArrayNode records = event.putArray("Records");
        for (Message m : messages) {
            var messageAttributes = new java.util.TreeMap<String, String>();
            m.messageAttributes().forEach((name, value) -> messageAttributes.put(name, value.stringValue()));
            SqsEvents.addRecord(records, m.messageId(), m.receiptHandle(), m.body(), m.attributesAsStrings(),
                    messageAttributes, m.md5OfBody(), queueArn);
        }
        return event.toString();
    }
}
