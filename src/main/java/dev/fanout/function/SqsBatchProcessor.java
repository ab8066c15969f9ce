package dev.fanout.function;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.jboss.logging.Logger;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.events.SQSEvent.SQSMessage;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.engine.Batch;
import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.RunSummary;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.Delivery;
import dev.fanout.fanin.FallbackResult;
import dev.fanout.fanin.ResultMessage;
import dev.fanout.fanin.ResultRecord;
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
                .continuingAfter(SqsBatchProcessor::isFinal);
        if (!pool.hasTimeBeforeCutoff(deadline)) {
            // the function's timeout is shorter than the margin it needs: hand everything back, untouched
            LOG.errorf("cut-off margin %s leaves no time before the deadline (%s left) for %d records: raise the "
                    + "function's timeout or lower fanout.cutoff-margin", pool.limits().cutoffMargin(),
                    deadline.remaining(), n);
            summary.put("skipped", "no time before the cut-off");
            return finish(allMessageIds(records), summary, deadline);
        }
        BatchResult<JsonNode> run = pool.run(batch, handlers.dispatcher(), deadline);

        // fan-in: a result for every record whose outcome is final
        List<ResultMessage> messages = new ArrayList<>();
        int[] messageOf = new int[n];
        Arrays.fill(messageOf, -1);
        int tooLarge = 0;
        for (int i = 0; i < n; i++) {
            Outcome<JsonNode> outcome = run.outcome(i);
            if (!isFinal(outcome)) {
                continue;
            }
            SQSMessage record = records.get(i);
            ResultRecord result = QueuedBatch.tag(ResultRecord.of(record.getMessageId(), items.get(i), outcome,
                    receiveCount(record)), record);
            ResultMessage message = message(result, items.get(i), record, traceId);
            if (message.sizeInBytes() > settings.maxMessageBytes()) {
                tooLarge++;
                message = message(result.withError("OutputTooLarge", "the result is " + message.sizeInBytes()
                        + " bytes, more than the results queue's " + settings.maxMessageBytes()
                        + "-byte message limit; the output was dropped, not truncated"), items.get(i), record, traceId);
            }
            messageOf[i] = messages.size();
            messages.add(message);
        }
        long fanInStarted = System.nanoTime();
        Delivery delivery = sink.deliver(messages, deadline.minus(settings.responseMargin()));
        long fanInMillis = (System.nanoTime() - fanInStarted) / 1_000_000;

        // acknowledgement: final and delivered; FIFO: nothing after a reported record of the same group
        boolean[] done = new boolean[n];
        Set<String> brokenGroups = new HashSet<>();
        for (int i = 0; i < n; i++) {
            done[i] = messageOf[i] >= 0 && delivery.delivered(messageOf[i]);
            String group = items.get(i).group().orElse(null);
            if (fifoSource && group != null) {
                if (brokenGroups.contains(group)) {
                    done[i] = false;
                } else if (!done[i]) {
                    brokenGroups.add(group);
                }
            }
        }
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (!done[i]) {
                failed.add(itemIdentifier(records.get(i)));
            }
        }
        describe(summary, run.summary());
        summary.put("fifo", fifoSource).put("results", messages.size()).put("outputTooLarge", tooLarge)
                .put("delivered", delivery.deliveredCount()).put("sendRequests", delivery.requests())
                .put("sendRetries", delivery.retries()).put("throttled", delivery.throttled())
                .put("refusedResults", delivery.refused()).put("queueUnreachable", delivery.unreachable())
                .put("fanInMs", fanInMillis);
        InvocationMetrics.countByType(summary, items, run::outcome, handlers.types());
        logUndelivered(delivery);
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

    /** Final outcomes are acknowledged once their result is out; the rest come back from SQS. */
    static boolean isFinal(Outcome<?> outcome) {
        return switch (outcome) {
            case Outcome.Succeeded<?> s -> true;
            case Outcome.Rejected<?> r -> true;
            case Outcome.Failed<?> f -> !f.retryable();
            case Outcome.TimedOut<?> t -> false;
            case Outcome.NotStarted<?> ns -> false;
        };
    }

    private ResultMessage message(ResultRecord result, ParsedItem item, SQSMessage record, Optional<String> traceId) {
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
        Optional<String> group = Optional.empty();
        Optional<String> dedup = Optional.empty();
        Optional<String> recordId = Optional.ofNullable(result.sourceMessageId());
        if (settings.fifoResults()) {
            // a source without groups gets one group per record: no false ordering between unrelated results;
            // a record without an id has nothing to deduplicate on, and a result of its own each time
            String id = recordId.orElseGet(() -> "no-message-id-" + java.util.UUID.randomUUID());
            group = Optional.of(item.group().orElse(id));
            dedup = Optional.of(id);
        }
        String sentStatus = status;
        Map<String, String> attributes = traceId.map(id -> Map.of(STATUS_ATTRIBUTE, sentStatus, TRACE_ATTRIBUTE, id))
                .orElseGet(() -> Map.of(STATUS_ATTRIBUTE, sentStatus));
        return new ResultMessage(body, QueuedBatch.attributes(result, attributes), group, dedup, recordId);
    }

    private static void describe(ObjectNode summary, RunSummary run) {
        summary.put("succeeded", run.succeeded()).put("failed", run.failed()).put("rejected", run.rejected())
                .put("timedOut", run.timedOut()).put("notStarted", run.notStarted())
                .put("peakConcurrency", run.peakConcurrency()).put("p50Ms", run.p50().toMillis())
                .put("p95Ms", run.p95().toMillis()).put("maxMs", run.max().toMillis())
                .put("engineMs", run.elapsed().toMillis()).put("abandoned", run.abandoned());
    }

    private static void logUndelivered(Delivery delivery) {
        delivery.failures().stream().filter(f -> f != null).distinct().limit(5)
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
