package dev.fanout.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.batch.Metric;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.Delivery;
import dev.fanout.fanin.ResultMessage;
import dev.fanout.fanin.ResultStream;
import dev.fanout.fanin.ResultsSink;
import dev.fanout.work.ItemParser;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;

/**
 * A batch of queue records through the engine and a sink that confirms what it is told to: a record is
 * acknowledged only when its outcome is final and its result confirmed, a FIFO group stops at its first
 * record handed back, and each result goes to the stream with its keys and attributes.
 */
class RecordBatchAcknowledgementTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** A sink that records each offer and confirms every offered index except those it refuses. */
    static final class RecordingSink implements ResultsSink {
        final Set<Integer> unconfirmed;
        /** The one reason every unconfirmed result fails with, or null: a reason of its own each. */
        volatile String sameReason;
        final Map<Integer, ResultMessage> offered = new ConcurrentHashMap<>();
        final Map<Integer, Integer> after = new ConcurrentHashMap<>();
        final AtomicInteger opened = new AtomicInteger();
        volatile Deadline openedWith;

        RecordingSink(Set<Integer> unconfirmed) {
            this.unconfirmed = unconfirmed;
        }

        @Override
        public Delivery deliver(List<ResultMessage> messages, Deadline deadline) {
            throw new AssertionError("a record batch streams its results");
        }

        @Override
        public ResultStream open(int capacity, Deadline deadline) {
            opened.incrementAndGet();
            openedWith = deadline;
            return new ResultStream() {
                @Override
                public void offer(int index, ResultMessage message, int previous) {
                    assertThat(offered.putIfAbsent(index, message)).as("offered once: %d", index).isNull();
                    after.put(index, previous);
                }

                @Override
                public Delivery close() {
                    List<String> failures = new ArrayList<>();
                    List<String> ids = new ArrayList<>();
                    for (int i = 0; i < capacity; i++) {
                        boolean ok = offered.containsKey(i) && !unconfirmed.contains(i);
                        failures.add(ok ? null
                                : offered.containsKey(i) ? sameReason != null ? sameReason : "refused " + i
                                : "not offered");
                        ids.add(ok ? "sqs-" + i : null);
                    }
                    return new Delivery(failures, 3, 2, 1, ids, 4, 5, true);
                }

                @Override
                public Duration confirmationLag(int percent) {
                    return Duration.ofMillis(percent);
                }
            };
        }
    }

    private static ItemFunctions handlers() {
        return TestFunctions.builder(MAPPER).register("echo", (payload, context) -> {
            return switch (payload.path("mode").asText()) {
                case "fail" -> throw new NonRetryableException("bad item " + payload.path("n").asInt());
                case "retry" -> throw new IllegalStateException("try again " + payload.path("n").asInt());
                default -> Map.of("echo", payload.path("n").asInt());
            };
        }).register("other", (payload, context) -> "x").build();
    }

    private static RecordBatch batch(RecordingSink sink, boolean fifoResults, Duration cutoffMargin) {
        return new RecordBatch(new WorkerPool(Limits.of(4).withCutoffMargin(cutoffMargin)), handlers(),
                new ItemParser(MAPPER, Optional.empty()), sink, MAPPER,
                new RecordBatch.Settings(Duration.ofMillis(250), fifoResults));
    }

    private static SourceRecord record(String id, String mode, int n) {
        return new SourceRecord(id, "{\"type\":\"echo\",\"payload\":{\"mode\":\"" + mode + "\",\"n\":" + n + "}}",
                Optional.empty(), 2, null, null);
    }

    private static SourceRecord grouped(String id, String group, String mode, int n) {
        return new SourceRecord(id, "{\"type\":\"echo\",\"payload\":{\"mode\":\"" + mode + "\",\"n\":" + n + "}}",
                Optional.of(group), 1, null, null);
    }

    private static JsonNode body(ResultMessage message) throws Exception {
        return MAPPER.readTree(message.body());
    }

    @Test
    void acknowledgesOnlyFinalOutcomesWhoseResultIsConfirmed() throws Exception {
        var sink = new RecordingSink(Set.of(4));
        List<SourceRecord> records = List.of(record("m-0", "ok", 10), record("m-1", "fail", 11),
                record("m-2", "retry", 12), new SourceRecord("m-3", "{not json", Optional.empty(), 7, null, null),
                record("m-4", "ok", 14), new SourceRecord("m-5", "{\"type\":\"other\"}", Optional.empty(), 1, null,
                        null));

        RecordBatch.Answer answer = batch(sink, false, Duration.ZERO).run(records, false,
                Deadline.after(Duration.ofSeconds(30)), Optional.of("Root=1-abc"));

        // 2 failed retryably: no result, back to the source; 4 is final but its result is not confirmed
        assertThat(answer.acknowledged()).containsExactly(true, true, false, true, false, true);
        assertThat(sink.offered.keySet()).containsExactlyInAnyOrder(0, 1, 3, 4, 5);
        assertThat(sink.opened).hasValue(1);

        JsonNode ok = body(sink.offered.get(0));
        assertThat(ok.get("sourceMessageId").asText()).isEqualTo("m-0");
        assertThat(ok.get("itemId").asText()).isEqualTo("m-0");
        assertThat(ok.get("type").asText()).isEqualTo("echo");
        assertThat(ok.get("status").asText()).isEqualTo("succeeded");
        assertThat(ok.get("output")).isEqualTo(MAPPER.readTree("{\"echo\":10}"));
        assertThat(ok.get("attempt").asInt()).isEqualTo(2);
        assertThat(ok.has("error")).isFalse();
        assertThat(sink.offered.get(0).attributes()).isEqualTo(Map.of("status", "succeeded", "traceId", "Root=1-abc"));
        assertThat(sink.offered.get(0).groupId()).isEmpty();
        assertThat(sink.offered.get(0).deduplicationId()).isEmpty();

        JsonNode failed = body(sink.offered.get(1));
        assertThat(failed.get("status").asText()).isEqualTo("failed");
        assertThat(failed.get("error")).isEqualTo(MAPPER.readTree(
                "{\"type\":\"NonRetryableException\",\"message\":\"bad item 11\",\"retryable\":false}"));

        JsonNode rejected = body(sink.offered.get(3));
        assertThat(rejected.get("status").asText()).isEqualTo("rejected");
        assertThat(rejected.get("itemId").asText()).isEqualTo("m-3");
        assertThat(rejected.has("type")).isFalse();
        assertThat(rejected.get("attempt").asInt()).isEqualTo(7);
        assertThat(rejected.at("/error/type").asText()).isEqualTo("Rejected");
        assertThat(rejected.at("/error/message").asText()).startsWith("item is not valid JSON: ");
        assertThat(sink.offered.get(3).attributes()).isEqualTo(Map.of("status", "rejected", "traceId", "Root=1-abc"));

        // without groups, no result waits for another
        assertThat(sink.after).containsOnly(Map.entry(0, -1), Map.entry(1, -1), Map.entry(3, -1), Map.entry(4, -1),
                Map.entry(5, -1));

        var summary = answer.summary();
        assertThat(summary.get("event").asText()).isEqualTo("fanout.sqs");
        assertThat(summary.get("records").asInt()).isEqualTo(6);
        assertThat(summary.get("fifo").asBoolean()).isFalse();
        assertThat(summary.get("results").asInt()).isEqualTo(5);
        assertThat(summary.get("succeeded").asInt()).isEqualTo(3);
        assertThat(summary.get("failed").asInt()).isEqualTo(2);
        assertThat(summary.get("rejected").asInt()).isEqualTo(1);
        assertThat(summary.get("timedOut").asInt()).isZero();
        assertThat(summary.get("notStarted").asInt()).isZero();
        assertThat(summary.get("abandoned").asInt()).isZero();
        assertThat(summary.get("delivered").asInt()).isEqualTo(4);
        assertThat(summary.get("sendRequests").asInt()).isEqualTo(3);
        assertThat(summary.get("sendRetries").asInt()).isEqualTo(2);
        assertThat(summary.get("throttled").asInt()).isEqualTo(1);
        assertThat(summary.get("refusedResults").asInt()).isEqualTo(4);
        assertThat(summary.get("outputTooLarge").asInt()).isEqualTo(5);
        assertThat(summary.get("queueUnreachable").asBoolean()).isTrue();
        assertThat(summary.get("resultLagP50Ms").asLong()).isEqualTo(50);
        assertThat(summary.get("resultLagP99Ms").asLong()).isEqualTo(99);
        assertThat(summary.get("fanInMs").asLong()).isBetween(0L, 30_000L);
        assertThat(summary.get(Metric.ENGINE_MS.key()).asLong()).isBetween(0L, 30_000L);
        assertThat(summary.get("items.echo").asInt()).isEqualTo(4);
        assertThat(summary.get("failures.echo").asInt()).isEqualTo(2);
        assertThat(summary.get("items.other").asInt()).isEqualTo(2);
        assertThat(summary.get("failures.other").asInt()).isEqualTo(1);
    }

    @Test
    void aFifoGroupIsHandedBackFromItsFirstRecordNotAcknowledged() throws Exception {
        // a-1's result is not confirmed: a-2 comes back with it, though its own result is confirmed
        var sink = new RecordingSink(Set.of(1));
        List<SourceRecord> records = List.of(grouped("a-0", "a", "ok", 0), grouped("a-1", "a", "ok", 1),
                grouped("b-0", "b", "ok", 2), grouped("a-2", "a", "ok", 3), grouped("b-1", "b", "ok", 4),
                grouped("c-0", "c", "retry", 5), grouped("c-1", "c", "ok", 6));

        RecordBatch.Answer answer = batch(sink, true, Duration.ZERO).run(records, true,
                Deadline.after(Duration.ofSeconds(30)), Optional.empty());

        assertThat(answer.acknowledged()).containsExactly(true, false, true, false, true, false, false);
        assertThat(answer.summary().get("fifo").asBoolean()).isTrue();
        // c-0 failed retryably, so c-1 never started: neither has a result
        assertThat(sink.offered.keySet()).containsExactlyInAnyOrder(0, 1, 2, 3, 4);
        assertThat(answer.summary().get("notStarted").asInt()).isEqualTo(1);
        assertThat(sink.offered.get(0).groupId()).contains("a");
        assertThat(sink.offered.get(0).deduplicationId()).contains("a-0");
        assertThat(sink.offered.get(2).groupId()).contains("b");
        assertThat(sink.offered.get(4).deduplicationId()).contains("b-1");
        assertThat(sink.offered.get(0).attributes()).isEqualTo(Map.of("status", "succeeded"));
        // each result waits for the previous one of its group
        assertThat(sink.after).containsOnly(Map.entry(0, -1), Map.entry(1, 0), Map.entry(2, -1), Map.entry(3, 1),
                Map.entry(4, 2));
    }

    @Test
    void aStandardSourceHandsBackOnlyTheRecordsThemselves() throws Exception {
        // the items name a group, but a standard source has no order to keep: only record 0 comes back
        var sink = new RecordingSink(Set.of(0));
        String body = "{\"type\":\"echo\",\"group\":\"g\",\"payload\":{\"n\":1}}";
        List<SourceRecord> records = List.of(new SourceRecord("a-0", body, Optional.of("source"), 1, null, null),
                new SourceRecord("a-1", body, Optional.of("source"), 1, null, null));

        RecordBatch.Answer answer = batch(sink, false, Duration.ZERO).run(records, false,
                Deadline.after(Duration.ofSeconds(30)), Optional.empty());

        assertThat(answer.acknowledged()).containsExactly(false, true);
        assertThat(answer.summary().get("fifo").asBoolean()).isFalse();
    }

    @Test
    void aStandardSourceIgnoresTheRecordsGroupForResultKeys() throws Exception {
        var sink = new RecordingSink(Set.of());
        List<SourceRecord> records = List.of(grouped("a-0", "a", "retry", 0), grouped("a-1", "a", "ok", 1));

        RecordBatch.Answer answer = batch(sink, true, Duration.ZERO).run(records, false,
                Deadline.after(Duration.ofSeconds(30)), Optional.empty());

        // the source's group is not the item's: a-1 runs though a-0 failed
        assertThat(answer.acknowledged()).containsExactly(false, true);
        // no group: the record's own id is its group on a FIFO results queue
        assertThat(sink.offered.get(1).groupId()).contains("a-1");
        assertThat(sink.offered.get(1).deduplicationId()).contains("a-1");
        assertThat(sink.after.get(1)).isEqualTo(-1);
    }

    @Test
    void aRecordWithoutAnIdGetsAnIdOfItsIndexAndAResultOfItsOwn() throws Exception {
        var sink = new RecordingSink(Set.of());
        List<SourceRecord> records = List.of(record(null, "ok", 0), record(null, "ok", 1));

        RecordBatch.Answer answer = batch(sink, true, Duration.ZERO).run(records, false,
                Deadline.after(Duration.ofSeconds(30)), Optional.empty());

        assertThat(answer.acknowledged()).containsExactly(true, true);
        assertThat(body(sink.offered.get(1)).get("itemId").asText()).isEqualTo("record-1");
        assertThat(body(sink.offered.get(1)).has("sourceMessageId")).isFalse();
        String first = sink.offered.get(0).deduplicationId().orElseThrow();
        String second = sink.offered.get(1).deduplicationId().orElseThrow();
        assertThat(first).startsWith("no-message-id-").isNotEqualTo(second);
        assertThat(sink.offered.get(0).groupId()).contains(first);
    }

    @Test
    void aQueuedItemsResultCarriesItsBatchAndIndex() throws Exception {
        var sink = new RecordingSink(Set.of());
        String body = "{\"type\":\"echo\",\"payload\":{\"n\":1}}";
        List<SourceRecord> records = List.of(new SourceRecord("m-0", body, Optional.empty(), 1, "batch-9", "3"),
                new SourceRecord("m-1", body, Optional.empty(), 1, "batch-9", "three"),
                new SourceRecord("m-2", body, Optional.empty(), 1, null, "4"));

        batch(sink, false, Duration.ZERO).run(records, false, Deadline.after(Duration.ofSeconds(30)), Optional.empty());

        assertThat(sink.offered.get(0).attributes()).isEqualTo(Map.of("status", "succeeded",
                QueuedBatch.BATCH_ID_ATTRIBUTE, "batch-9", QueuedBatch.ITEM_INDEX_ATTRIBUTE, "3"));
        assertThat(body(sink.offered.get(0)).get("batchId").asText()).isEqualTo("batch-9");
        assertThat(body(sink.offered.get(0)).get("itemIndex").asInt()).isEqualTo(3);
        // an index that is not a number is left out, the batch kept
        assertThat(sink.offered.get(1).attributes()).isEqualTo(Map.of("status", "succeeded",
                QueuedBatch.BATCH_ID_ATTRIBUTE, "batch-9"));
        assertThat(body(sink.offered.get(1)).has("itemIndex")).isFalse();
        // no batch, no tag
        assertThat(sink.offered.get(2).attributes()).isEqualTo(Map.of("status", "succeeded"));
        assertThat(body(sink.offered.get(2)).has("batchId")).isFalse();
        assertThat(body(sink.offered.get(2)).has("itemIndex")).isFalse();
    }

    @Test
    void theStreamEndsTheResponseMarginBeforeTheDeadline() {
        var sink = new RecordingSink(Set.of());
        Deadline deadline = Deadline.after(Duration.ofSeconds(30));

        batch(sink, false, Duration.ZERO).run(List.of(record("m-0", "ok", 0)), false, deadline, Optional.empty());

        assertThat(sink.openedWith.nanos()).isEqualTo(deadline.nanos() - Duration.ofMillis(250).toNanos());
    }

    @Test
    void noTimeBeforeTheCutOffHandsEveryRecordBackUntouched() {
        var sink = new RecordingSink(Set.of());
        var ran = new AtomicInteger();
        var handlers = TestFunctions.builder(MAPPER).register("echo", (payload, context) -> ran.incrementAndGet()).build();
        var batch = new RecordBatch(new WorkerPool(Limits.of(2).withCutoffMargin(Duration.ofMinutes(5))), handlers,
                new ItemParser(MAPPER, Optional.empty()), sink, MAPPER,
                new RecordBatch.Settings(Duration.ZERO, false));

        RecordBatch.Answer answer = batch.run(List.of(record("m-0", "ok", 0), record("m-1", "ok", 1)), false,
                Deadline.after(Duration.ofSeconds(30)), Optional.empty());

        assertThat(answer.acknowledged()).containsExactly(false, false);
        assertThat(answer.summary().get("skipped").asText()).isEqualTo("no time before the cut-off");
        assertThat(answer.summary().get("records").asInt()).isEqualTo(2);
        assertThat(sink.opened).hasValue(0);
        assertThat(ran).hasValue(0);
    }

    @Test
    void anEmptyBatchOpensNoStream() {
        var sink = new RecordingSink(Set.of());

        RecordBatch.Answer answer = batch(sink, false, Duration.ZERO).run(Collections.emptyList(), false,
                Deadline.after(Duration.ofSeconds(30)), Optional.empty());

        assertThat(answer.acknowledged()).isEmpty();
        assertThat(answer.summary()).isEqualTo(MAPPER.createObjectNode().put("event", "fanout.sqs").put("records", 0));
        assertThat(sink.opened).hasValue(0);
    }

    /** The warnings RecordBatch logs while {@code run} runs. */
    private static List<String> warnings(Runnable run) {
        var logger = Logger.getLogger(RecordBatch.class.getName());
        List<String> warnings = new CopyOnWriteArrayList<>();
        var capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() == Level.WARNING.intValue()) {
                    warnings.add(record.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(capture);
        try {
            run.run();
        } finally {
            logger.removeHandler(capture);
        }
        return warnings;
    }

    @Test
    void logsAtMostFiveReasonsForResultsNotDelivered() {
        var sink = new RecordingSink(Set.of(0, 1, 2, 3, 4, 5, 6));
        List<SourceRecord> records = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            records.add(record("m-" + i, "ok", i));
        }
        records.add(record("m-7", "retry", 7));

        List<String> warnings = warnings(() -> batch(sink, false, Duration.ZERO).run(records, false,
                Deadline.after(Duration.ofSeconds(30)), Optional.empty()));

        // record 7 had no result to deliver: it is no case of a result not delivered
        assertThat(warnings).containsExactly("result not delivered: refused 0", "result not delivered: refused 1",
                "result not delivered: refused 2", "result not delivered: refused 3", "result not delivered: refused 4");
    }

    @Test
    void logsEachReasonForResultsNotDeliveredOnce() {
        var sink = new RecordingSink(Set.of(0, 2));
        sink.sameReason = "throttled";
        List<SourceRecord> records = List.of(record("m-0", "ok", 0), record("m-1", "retry", 1), record("m-2", "ok", 2),
                record("m-3", "ok", 3));

        List<String> warnings = warnings(() -> batch(sink, false, Duration.ZERO).run(records, false,
                Deadline.after(Duration.ofSeconds(30)), Optional.empty()));

        assertThat(warnings).containsExactly("result not delivered: throttled");
    }
}
