package dev.fanout.function;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.stream.IntStream;

import org.jboss.logging.Logger;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.events.SQSEvent.SQSMessage;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.RecordRules;
import dev.fanout.engine.Batch;
import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.OutcomeListener;
import dev.fanout.engine.RunSummary;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.Delivery;
import dev.fanout.fanin.FallbackResult;
import dev.fanout.fanin.ResultMessage;
import dev.fanout.fanin.ResultRecord;
import dev.fanout.fanin.ResultStream;
import dev.fanout.fanin.ResultWriter;
import dev.fanout.fanin.ResultsSink;
import dev.fanout.work.ItemParser;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.WorkHandlers;

/**
 * One SQS batch, end to end: records to items, items through the engine, results to the results
 * queue, and the partial batch response.
 * <p>
 * The promise: a record is acknowledged (left out of {@code batchItemFailures}) only when its outcome is
 * final (succeeded, failed for good, or rejected as malformed) AND its result is confirmed on the results
 * queue. Every other record is reported, so SQS delivers it again and, in the end, dead-letters it. For a
 * FIFO source, once a record of a group is reported, so is every later record of that group.
 */
public final class SqsBatchProcessor {

    private static final Logger LOG = Logger.getLogger(SqsBatchProcessor.class);
    static final String STATUS_ATTRIBUTE = "status";
    /** The invocation's X-Ray trace id on each result: one record can be followed from its event to its result. */
    static final String TRACE_ATTRIBUTE = "traceId";

    /**
     * @param responseMargin  time kept back from the deadline, after fan-in, for the response
     * @param maxMessageBytes largest result message; a larger result becomes an error result
     * @param fifoResults     the results queue is FIFO: messages carry a group and a deduplication id
     */
    public record Settings(Duration responseMargin, int maxMessageBytes, boolean fifoResults) {
    }

    /** The response and the figures of one invocation (the figures are also logged). */
    public record Invocation(SQSBatchResponse response, ObjectNode summary) {
    }

    private final WorkerPool pool;
    private final WorkHandlers handlers;
    private final ItemParser parser;
    private final ResultsSink sink;
    private final ObjectMapper mapper;
    private final ResultWriter results;
    private final Settings settings;

    public SqsBatchProcessor(WorkerPool pool, WorkHandlers handlers, ItemParser parser, ResultsSink sink,
            ObjectMapper mapper, Settings settings) {
        this.pool = pool;
        this.handlers = handlers;
        this.parser = parser;
        this.sink = sink;
        this.mapper = mapper;
        this.results = new ResultWriter(mapper);
        this.settings = settings;
    }

    public Invocation process(SQSEvent event, Deadline deadline) {
        return process(event, deadline, Optional.empty());
    }

    /** @param traceId the invocation's X-Ray trace id, written on each result message */
    public Invocation process(SQSEvent event, Deadline deadline, Optional<String> traceId) {
        List<SQSMessage> records = event == null || event.getRecords() == null ? List.of() : event.getRecords();
        int n = records.size();
        ObjectNode summary = mapper.createObjectNode().put("event", "fanout.sqs").put("records", n);
        if (n == 0) {
            return finish(new ArrayList<>(), summary, deadline);
        }
        boolean fifoSource = records.stream().anyMatch(SqsBatchProcessor::isFifo);
        List<ParsedItem> items = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            SQSMessage record = records.get(i);
            Optional<String> group = fifoSource ? Optional.ofNullable(attribute(record, "MessageGroupId")) : Optional.empty();
            String id = record.getMessageId() == null ? "record-" + i : record.getMessageId();
            items.add(parser.parse(record.getBody(), id, group));
        }
        // a group goes on after a record that is acknowledged with its error result: it is never delivered again
        Batch<ParsedItem> batch = Batch.fifo(items, item -> item.group().orElse(null))
                .continuingAfter(RecordRules::isFinal);
        if (!pool.hasTimeBeforeCutoff(deadline)) {
            // the function's timeout is shorter than the margin it needs: hand everything back, untouched
            LOG.errorf("cut-off margin %s leaves no time before the deadline (%s left) for %d records: raise the "
                    + "function's timeout or lower fanout.cutoff-margin", pool.limits().cutoffMargin(),
                    deadline.remaining(), n);
            summary.put("skipped", "no time before the cut-off");
            return finish(allMessageIds(records), summary, deadline);
        }
        // fan-in streams: a record's result goes to the results queue as soon as its outcome is final, while
        // the rest of the batch still runs; the stream keeps what is not confirmed by its deadline unsent
        FifoKeys[] keys = fifoKeys(records, items);
        int[] after = RecordRules.previousInGroup(n, i -> keys[i] == null ? null : keys[i].group());
        AtomicInteger tooLarge = new AtomicInteger();
        AtomicInteger results = new AtomicInteger();
        AtomicIntegerArray handed = new AtomicIntegerArray(n);
        ResultStream stream = sink.open(n, deadline.minus(settings.responseMargin()));
        OutcomeListener<JsonNode> toStream = (i, outcome) -> {
            if (RecordRules.isFinal(outcome) && handed.compareAndSet(i, 0, 1)) {
                results.incrementAndGet();
                stream.offer(i, message(records.get(i), items.get(i), outcome, keys[i], traceId, tooLarge),
                        after[i]);
            }
        };
        BatchResult<JsonNode> run;
        long engineEnded;
        Delivery delivery;
        try {
            run = pool.run(batch, handlers.dispatcher(), deadline, toStream);
            engineEnded = System.nanoTime();
        } finally {
            delivery = stream.close();
        }
        long fanInMillis = (System.nanoTime() - engineEnded) / 1_000_000;

        // acknowledgement: final and delivered; FIFO: nothing after a reported record of the same group
        Delivery confirmed = delivery;
        boolean[] done = RecordRules.acknowledged(n, i -> handed.get(i) == 1 && confirmed.delivered(i),
                i -> fifoSource ? items.get(i).group().orElse(null) : null);
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (!done[i]) {
                failed.add(itemIdentifier(records.get(i)));
            }
        }
        describe(summary, run.summary());
        summary.put("fifo", fifoSource).put("results", results.get()).put("outputTooLarge", tooLarge.get())
                .put("delivered", delivery.deliveredCount()).put("sendRequests", delivery.requests())
                .put("sendRetries", delivery.retries()).put("throttled", delivery.throttled())
                .put("refusedResults", delivery.refused()).put("queueUnreachable", delivery.unreachable())
                .put("fanInMs", fanInMillis).put("resultLagP50Ms", stream.confirmationLag(50).toMillis())
                .put("resultLagP99Ms", stream.confirmationLag(99).toMillis());
        InvocationMetrics.countByType(summary, items, run::outcome, handlers.types());
        logUndelivered(delivery, handed);
        return finish(failed, summary, deadline);
    }

    private Invocation finish(List<String> failedIds, ObjectNode summary, Deadline deadline) {
        // a message id that repeats in the batch is reported once; one unfinished copy is enough to report it
        List<SQSBatchResponse.BatchItemFailure> failures = new LinkedHashSet<>(failedIds).stream()
                .map(SQSBatchResponse.BatchItemFailure::new).toList();
        if (failedIds.contains(WHOLE_BATCH)) {
            summary.put("wholeBatchHandedBack", "a record without a messageId could not be acknowledged");
        }
        summary.put("batchItemFailures", failures.size()).put("timeLeftMs", deadline.remaining().toMillis());
        InvocationMetrics.log(summary, "sqs");
        return new Invocation(new SQSBatchResponse(new ArrayList<>(failures)), summary);
    }

    /** Record {@code i}'s result as a message; a result above the message limit becomes an error result. */
    private ResultMessage message(SQSMessage record, ParsedItem item, Outcome<JsonNode> outcome, FifoKeys keys,
            Optional<String> traceId, AtomicInteger tooLarge) {
        ResultRecord result = QueuedBatch.tag(ResultRecord.of(record.getMessageId(), item, outcome, receiveCount(record)),
                record);
        ResultMessage message = message(result, keys, traceId);
        if (message.sizeInBytes() > settings.maxMessageBytes()) {
            tooLarge.incrementAndGet();
            message = message(result.withError("OutputTooLarge", "the result is " + message.sizeInBytes()
                    + " bytes, more than the results queue's " + settings.maxMessageBytes()
                    + "-byte message limit; the output was dropped, not truncated"), keys, traceId);
        }
        return message;
    }

    private ResultMessage message(ResultRecord result, FifoKeys keys, Optional<String> traceId) {
        String body;
        String status = result.status();
        try {
            body = results.write(result);
        } catch (JsonProcessingException | RuntimeException e) {
            // one unwritable result (an output too deep, a type without reflection data in a native image) must not
            // fail the batch: its record gets an error result written by hand, which cannot fail in turn
            status = ResultRecord.status(Outcome.Status.FAILED);
            body = FallbackResult.of(result, "OutputNotWritable", "the result could not be written as JSON: "
                    + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.toString()));
        }
        Optional<String> recordId = Optional.ofNullable(result.sourceMessageId());
        String sentStatus = status;
        Map<String, String> attributes = traceId.map(id -> Map.of(STATUS_ATTRIBUTE, sentStatus, TRACE_ATTRIBUTE, id))
                .orElseGet(() -> Map.of(STATUS_ATTRIBUTE, sentStatus));
        return new ResultMessage(body, QueuedBatch.attributes(result, attributes),
                Optional.ofNullable(keys).map(FifoKeys::group), Optional.ofNullable(keys).map(FifoKeys::deduplicationId),
                recordId);
    }

    /** A result's message group and deduplication id on a FIFO results queue. */
    private record FifoKeys(String group, String deduplicationId) {
    }

    /**
     * Each record's result keys on a FIFO results queue, else nulls. A source without groups gets one group
     * per record: no false ordering between unrelated results. A record without an id has nothing to
     * deduplicate on, and a result of its own each time.
     */
    private FifoKeys[] fifoKeys(List<SQSMessage> records, List<ParsedItem> items) {
        FifoKeys[] keys = new FifoKeys[records.size()];
        if (settings.fifoResults()) {
            for (int i = 0; i < keys.length; i++) {
                String messageId = records.get(i).getMessageId();
                String id = messageId != null ? messageId : "no-message-id-" + UUID.randomUUID();
                keys[i] = new FifoKeys(items.get(i).group().orElse(id), id);
            }
        }
        return keys;
    }

    private static void describe(ObjectNode summary, RunSummary run) {
        summary.put("succeeded", run.succeeded()).put("failed", run.failed()).put("rejected", run.rejected())
                .put("timedOut", run.timedOut()).put("notStarted", run.notStarted())
                .put("peakConcurrency", run.peakConcurrency()).put("p50Ms", run.p50().toMillis())
                .put("p95Ms", run.p95().toMillis()).put("maxMs", run.max().toMillis())
                .put("engineMs", run.elapsed().toMillis()).put("abandoned", run.abandoned());
    }

    /** Why results were not delivered; a record that never had a result (it comes back) is no such case. */
    private static void logUndelivered(Delivery delivery, AtomicIntegerArray handed) {
        IntStream.range(0, handed.length()).filter(i -> handed.get(i) == 1)
                .mapToObj(i -> delivery.failures().get(i)).filter(Objects::nonNull).distinct().limit(5)
                .forEach(reason -> LOG.warnf("result not delivered: %s", reason));
    }

    private static List<String> allMessageIds(List<SQSMessage> records) {
        return records.stream().map(SqsBatchProcessor::itemIdentifier).toList();
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

    private static Integer receiveCount(SQSMessage record) {
        String count = attribute(record, "ApproximateReceiveCount");
        try {
            return count == null ? null : Integer.valueOf(count);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
