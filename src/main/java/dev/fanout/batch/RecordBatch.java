package dev.fanout.batch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.stream.IntStream;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.OutcomeListener;
import dev.fanout.engine.RunSummary;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.Delivery;
import dev.fanout.fanin.ResultStream;
import dev.fanout.fanin.ResultsSink;
import dev.fanout.work.ItemParser;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.ItemFunctions;

/**
 * One batch of queue records, end to end: records to items, items through the engine, each final record's
 * result streamed to the results queue as its outcome is set, and which records are acknowledged.
 * <p>
 * The promise: a record is acknowledged only when its outcome is final (succeeded, failed for good, or
 * rejected as malformed) AND its result is confirmed on the results queue ({@link RecordRules}). Every other
 * record is handed back, so the source delivers it again and, in the end, dead-letters it. On a FIFO source,
 * once a record of a group is handed back, so is every later record of that group.
 */
public final class RecordBatch {

    private static final Logger LOG = Logger.getLogger(RecordBatch.class);

    /**
     * @param responseMargin time kept back from the deadline, after fan-in, for the response
     * @param fifoResults    the results queue is FIFO: messages carry a group and a deduplication id
     */
    public record Settings(Duration responseMargin, boolean fifoResults) {
    }

    /**
     * What became of a batch.
     *
     * @param acknowledged for each record, whether it is done; the others go back to the source
     * @param summary      the batch's figures, for the invocation's log event
     * @param outcomes     each record's outcome; none (null) when the batch was skipped
     */
    public record Answer(List<Boolean> acknowledged, ObjectNode summary, List<Outcome<JsonNode>> outcomes) {

        public Answer {
            acknowledged = List.copyOf(acknowledged);
        }

        Answer(boolean[] acknowledged, ObjectNode summary, List<Outcome<JsonNode>> outcomes) {
            this(IntStream.range(0, acknowledged.length).mapToObj(i -> acknowledged[i]).toList(), summary, outcomes);
        }

        /** Whether record {@code i} is acknowledged. */
        public boolean isAcknowledged(int i) {
            return acknowledged.get(i);
        }

        /** The acknowledged flags as a new array, for code that takes one. */
        public boolean[] acknowledgedArray() {
            boolean[] flags = new boolean[acknowledged.size()];
            for (int i = 0; i < flags.length; i++) {
                flags[i] = acknowledged.get(i);
            }
            return flags;
        }

        /** Record {@code i}'s outcome, or null if it has none. */
        public Outcome<JsonNode> outcome(int i) {
            return outcomes == null ? null : outcomes.get(i);
        }
    }

    private final WorkerPool pool;
    private final ItemFunctions handlers;
    private final ItemParser parser;
    private final ResultsSink sink;
    private final ObjectMapper mapper;
    private final ResultMessages messages;
    private final Settings settings;

    /** The item types this batch runs. */
    public ItemFunctions functions() {
        return handlers;
    }

    public RecordBatch(WorkerPool pool, ItemFunctions handlers, ItemParser parser, ResultsSink sink, ObjectMapper mapper,
            Settings settings) {
        this.pool = pool;
        this.handlers = handlers;
        this.parser = parser;
        this.sink = sink;
        this.mapper = mapper;
        this.messages = new ResultMessages(mapper);
        this.settings = settings;
    }

    /**
     * Runs the records by {@code deadline} (less the response margin for fan-in).
     *
     * @param fifoSource the records come from a FIFO queue: their groups run in order
     * @param traceId    the invocation's X-Ray trace id, written on each result message
     */
    public Answer run(List<SourceRecord> records, boolean fifoSource, Deadline deadline, Optional<String> traceId) {
        int n = records.size();
        List<ParsedItem> items = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            SourceRecord record = records.get(i);
            String id = record.messageId() == null ? "record-" + i : record.messageId();
            items.add(parser.parse(record.body(), id, fifoSource ? record.group() : Optional.empty()));
        }
        return run("fanout.sqs", records, items, fifoSource, deadline, traceId);
    }

    /**
     * Runs records the entry point has already read as items ({@code items.get(i)} is record i's), each group of
     * items in order: a stream's records, whose items carry their partition key or item keys as their group.
     * The rules are those of a FIFO queue's records: a group goes on after a final outcome, a group's results
     * reach the results queue in order, and nothing after a record that comes back is acknowledged.
     *
     * @param event   the summary's event name ({@code fanout.kinesis}, ...)
     * @param records the records, for their ids (the results' {@code sourceMessageId} and, on a FIFO results
     *                queue, their deduplication id) and delivery counts
     */
    public Answer runOrdered(String event, List<SourceRecord> records, List<ParsedItem> items, Deadline deadline,
            Optional<String> traceId) {
        if (records.size() != items.size()) {
            throw new IllegalArgumentException(records.size() + " records but " + items.size() + " items");
        }
        return run(event, records, items, true, deadline, traceId);
    }

    private Answer run(String event, List<SourceRecord> records, List<ParsedItem> items, boolean fifoSource,
            Deadline deadline, Optional<String> traceId) {
        int n = records.size();
        ObjectNode summary = mapper.createObjectNode().put("event", event).put(Metric.RECORDS.key(), n);
        if (n == 0) {
            return new Answer(new boolean[0], summary, null);
        }
        if (!pool.hasTimeBeforeCutoff(deadline)) {
            // the function's timeout is shorter than the margin it needs: hand everything back, untouched
            LOG.errorf("cut-off margin %s leaves no time before the deadline (%s left) for %d records: raise the "
                    + "function's timeout or lower fanout.cutoff-margin", pool.limits().cutoffMargin(),
                    deadline.remaining(), n);
            summary.put("skipped", "no time before the cut-off");
            return new Answer(new boolean[n], summary, null);
        }
        // fan-in streams: a record's result goes to the results queue as soon as its outcome is final, while
        // the rest of the batch still runs; the stream keeps what is not confirmed by its deadline unsent
        ResultMessages.FifoKeys[] keys = fifoKeys(records, items);
        int[] after = RecordRules.previousInGroup(n, i -> keys[i] == null ? null : keys[i].group());
        AtomicInteger results = new AtomicInteger();
        AtomicIntegerArray handed = new AtomicIntegerArray(n);
        ResultStream stream = sink.open(n, deadline.minus(settings.responseMargin()));
        OutcomeListener<JsonNode> toStream = (i, outcome) -> {
            if (RecordRules.isFinal(outcome) && handed.compareAndSet(i, 0, 1)) {
                results.incrementAndGet();
                stream.offer(i, messages.message(result(records.get(i), items.get(i), outcome), keys[i], traceId),
                        after[i]);
            }
        };
        BatchResult<JsonNode> run;
        long engineEnded;
        Delivery delivery;
        try {
            run = pool.run(RecordRules.recordBatch(items), handlers.dispatcher(), deadline, toStream);
            engineEnded = System.nanoTime();
        } finally {
            delivery = stream.close();
        }
        long fanInMillis = (System.nanoTime() - engineEnded) / 1_000_000;

        Delivery confirmed = delivery;
        boolean[] acknowledged = RecordRules.acknowledged(n, i -> handed.get(i) == 1 && confirmed.delivered(i),
                i -> fifoSource ? items.get(i).group().orElse(null) : null);
        describe(summary, run.summary());
        summary.put("fifo", fifoSource).put(Metric.RESULTS.key(), results.get())
                .put(Metric.OUTPUT_TOO_LARGE.key(), delivery.tooLarge()).put(Metric.DELIVERED.key(), delivery.deliveredCount())
                .put(Metric.SEND_REQUESTS.key(), delivery.requests()).put(Metric.SEND_RETRIES.key(), delivery.retries())
                .put(Metric.THROTTLED.key(), delivery.throttled())
                .put("refusedResults", delivery.refused()).put("queueUnreachable", delivery.unreachable())
                .put(Metric.FAN_IN_MS.key(), fanInMillis).put("resultLagP50Ms", stream.confirmationLag(50).toMillis())
                .put("resultLagP99Ms", stream.confirmationLag(99).toMillis());
        SummaryFigures.countByType(summary, items, run::outcome, handlers.types());
        logUndelivered(delivery, handed);
        return new Answer(acknowledged, summary, run.outcomes());
    }

    /** A record's result: its item's outcome, the record's id and delivery count, and its queued batch if any. */
    private static ResultRecord result(SourceRecord record, ParsedItem item, Outcome<JsonNode> outcome) {
        return QueuedBatch.tag(ResultRecord.of(record.messageId(), item, outcome, record.receiveCount()),
                record.queuedBatchId(), record.queuedItemIndex());
    }

    /**
     * Each record's result keys on a FIFO results queue, else nulls. A source without groups gets one group
     * per record: no false ordering between unrelated results. A record without an id has nothing to
     * deduplicate on, and a result of its own each time. A group that SQS would not take as a MessageGroupId
     * (a stream's partition key or item keys may be longer, or other characters) is sent under its digest.
     */
    private ResultMessages.FifoKeys[] fifoKeys(List<SourceRecord> records, List<ParsedItem> items) {
        ResultMessages.FifoKeys[] keys = new ResultMessages.FifoKeys[records.size()];
        if (settings.fifoResults()) {
            for (int i = 0; i < keys.length; i++) {
                String messageId = records.get(i).messageId();
                String id = messageId != null ? messageId : "no-message-id-" + UUID.randomUUID();
                keys[i] = new ResultMessages.FifoKeys(items.get(i).group().map(ResultMessages::groupId).orElse(id), id);
            }
        }
        return keys;
    }

    private static void describe(ObjectNode summary, RunSummary run) {
        SummaryFigures.outcomes(summary, run, 0);
        summary.put(Metric.P50_MS.key(), run.p50().toMillis()).put(Metric.P95_MS.key(), run.p95().toMillis())
                .put(Metric.MAX_MS.key(), run.max().toMillis()).put(Metric.ENGINE_MS.key(), run.elapsed().toMillis())
                .put(Metric.ABANDONED.key(), run.abandoned());
    }

    /** Why results were not delivered; a record that never had a result (it comes back) is no such case. */
    private static void logUndelivered(Delivery delivery, AtomicIntegerArray handed) {
        IntStream.range(0, handed.length()).filter(i -> handed.get(i) == 1)
                .mapToObj(i -> delivery.failures().get(i)).filter(Objects::nonNull).distinct().limit(5)
                .forEach(reason -> LOG.warnf("result not delivered: %s", reason));
    }
}
