package dev.fanout.function;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import org.jboss.logging.Logger;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.events.SQSEvent.MessageAttribute;
import com.amazonaws.services.lambda.runtime.events.SQSEvent.SQSMessage;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.Metric;
import dev.fanout.batch.QueuedBatch;
import dev.fanout.batch.RecordBatch;
import dev.fanout.batch.Redelivery;
import dev.fanout.batch.SourceRecord;
import dev.fanout.engine.Deadline;

/**
 * The SQS event's side of a {@link RecordBatch}: its records in, the partial batch response out. What a
 * record means (its outcome, its result, whether it is acknowledged) is the batch's; this class reads the
 * event's fields and names the records that come back in {@code batchItemFailures}.
 */
public final class SqsBatchProcessor {

    /** The response and the figures of one invocation (the figures are also logged). */
    public record Invocation(SQSBatchResponse response, ObjectNode summary) {
    }

    private static final Logger LOG = Logger.getLogger(SqsBatchProcessor.class);

    private final RecordBatch batch;
    private final Optional<Redelivery> redelivery;
    private final Function<String, Optional<String>> queueUrlOfArn;

    public SqsBatchProcessor(RecordBatch batch) {
        this(batch, Optional.empty(), arn -> Optional.empty());
    }

    /**
     * @param redelivery    delays the records handed back; none leaves them to the queue's visibility timeout
     * @param queueUrlOfArn a record's queue URL from its eventSourceARN
     */
    public SqsBatchProcessor(RecordBatch batch, Optional<Redelivery> redelivery,
            Function<String, Optional<String>> queueUrlOfArn) {
        this.batch = batch;
        this.redelivery = redelivery;
        this.queueUrlOfArn = queueUrlOfArn;
    }

    public Invocation process(SQSEvent event, Deadline deadline) {
        return process(event, deadline, Optional.empty());
    }

    /** @param traceId the invocation's X-Ray trace id, written on each result message */
    public Invocation process(SQSEvent event, Deadline deadline, Optional<String> traceId) {
        List<SQSMessage> messages = event == null || event.getRecords() == null ? List.of() : event.getRecords();
        boolean fifoSource = messages.stream().anyMatch(SqsBatchProcessor::isFifo);
        List<SourceRecord> records = messages.stream().map(m -> record(m, fifoSource)).toList();
        RecordBatch.Answer answer = batch.run(records, fifoSource, deadline, traceId);
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            if (!answer.isAcknowledged(i)) {
                failed.add(itemIdentifier(messages.get(i)));
            }
        }
        redelivery.ifPresent(r -> delay(r, records, messages, fifoSource, answer, deadline));
        ObjectNode summary = answer.summary();
        // a message id that repeats in the batch is reported once; one unfinished copy is enough to report it
        List<SQSBatchResponse.BatchItemFailure> failures = new LinkedHashSet<>(failed).stream()
                .map(SQSBatchResponse.BatchItemFailure::new).toList();
        if (failed.contains(WHOLE_BATCH)) {
            summary.put("wholeBatchHandedBack", "a record without a messageId could not be acknowledged");
        }
        summary.put(Metric.BATCH_ITEM_FAILURES.key(), failures.size())
                .put(Metric.TIME_LEFT_MS.key(), deadline.remaining().toMillis());
        LimitMetrics.add(summary, batch.functions().serviceLimits());
        InvocationMetrics.log(summary, "sqs");
        return new Invocation(new SQSBatchResponse(new ArrayList<>(failures)), summary);
    }

    /**
     * A delay is never what keeps a record: whatever goes wrong here, the records already handed back stay so and
     * the acknowledged ones stay acknowledged.
     */
    private void delay(Redelivery redelivery, List<SourceRecord> records, List<SQSMessage> messages, boolean fifoSource,
            RecordBatch.Answer answer, Deadline deadline) {
        try {
            redelivery.delay(records, sources(messages), fifoSource, answer, deadline);
        } catch (RuntimeException e) {
            LOG.errorf(e, "handed-back records not delayed: %s", e);
            answer.summary().put(Metric.RECORDS_NOT_DELAYED.key(), messages.size() - countAcknowledged(answer))
                    .put(Metric.RECORDS_DELAYED.key(), 0);
        }
    }

    private static int countAcknowledged(RecordBatch.Answer answer) {
        int count = 0;
        for (boolean done : answer.acknowledged()) {
            count += done ? 1 : 0;
        }
        return count;
    }

    /** Each record's receipt handle and queue URL (an event's records share one ARN: it is mapped once). */
    private List<Redelivery.Source> sources(List<SQSMessage> messages) {
        Map<String, Optional<String>> urls = new HashMap<>();
        List<Redelivery.Source> sources = new ArrayList<>(messages.size());
        for (SQSMessage m : messages) {
            String arn = m.getEventSourceArn();
            Optional<String> url = arn == null ? Optional.empty() : urls.computeIfAbsent(arn, queueUrlOfArn);
            sources.add(new Redelivery.Source(m.getReceiptHandle(), url));
        }
        return sources;
    }

    private static SourceRecord record(SQSMessage message, boolean fifoSource) {
        Optional<String> group = fifoSource ? Optional.ofNullable(attribute(message, "MessageGroupId")) : Optional.empty();
        return new SourceRecord(message.getMessageId(), message.getBody(), group, receiveCount(message),
                messageAttribute(message, QueuedBatch.BATCH_ID_ATTRIBUTE),
                messageAttribute(message, QueuedBatch.ITEM_INDEX_ATTRIBUTE));
    }

    /**
     * The partial batch response names records by messageId, and has no way to name a record without
     * one. Lambda treats an empty (or null) itemIdentifier as the failure of the whole batch: every record
     * comes back, which is the only safe answer for a record that must come back but cannot be named. A
     * record without an id that is acknowledged needs no name. (Lambda's own events always carry ids.)
     */
    static final String WHOLE_BATCH = "";

    private static String itemIdentifier(SQSMessage record) {
        String id = record.getMessageId();
        return id == null || id.isEmpty() ? WHOLE_BATCH : id;
    }

    /**
     * A FIFO source, by its queue's name. Not by a MessageGroupId attribute: records of a standard queue
     * with fair queueing carry one too, and must not be serialised per group.
     */
    static boolean isFifo(SQSMessage record) {
        return record.getEventSourceArn() != null && record.getEventSourceArn().endsWith(".fifo");
    }

    private static String attribute(SQSMessage record, String name) {
        return record.getAttributes() == null ? null : record.getAttributes().get(name);
    }

    private static String messageAttribute(SQSMessage record, String name) {
        Map<String, MessageAttribute> attributes = record.getMessageAttributes();
        MessageAttribute attribute = attributes == null ? null : attributes.get(name);
        return attribute == null ? null : attribute.getStringValue();
    }

    private static Integer receiveCount(SQSMessage record) {
        String count = attribute(record, "ApproximateReceiveCount");
        try {
            return count == null ? null : Integer.valueOf(count);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
