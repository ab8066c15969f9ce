package dev.fanout.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLongArray;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.testing.FanoutSettings;
import dev.fanout.batch.RecordBatch;
import dev.fanout.engine.Batch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.function.StreamBatchProcessor;
import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.StreamEvents;
import dev.fanout.work.ItemParser;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;

/**
 * The Kinesis entry point in process (issue 24): one event of 10,000 records over 100 partition keys (record i
 * has key i mod 100, so each key holds a chain of 100 records), items of 20 ms, C = 500, every SendMessageBatch
 * call to ElasticMQ held 10 ms as in {@link SqsEntryPointFigures}. The ideal is the longest key's chain: 100 x
 * 20 ms = 2 s. Then Powertools' strategies on the same records, as its Kinesis handler runs them (reproduced in
 * {@link Strategies}): they do not know keys, so the table counts the records that started before the previous
 * record of their key ended (order broken). The slow ones run on a prefix and are extrapolated, as said. The
 * engine alone on the same keys, and the entry point with a stand-in client that accepts every result without a
 * server, tell apart what ordering costs and what ElasticMQ and the SDK's calls cost in this JVM.
 *
 * <pre>./mvnw -B -q test-compile -DskipTests && java -cp target/test-classes:target/classes:$(cat cp.txt) dev.fanout.bench.StreamFigures</pre>
 */
public final class StreamFigures {

    static final int RECORDS = 10_000;
    static final int KEYS = 100;
    static final long ITEM_MILLIS = 20;
    static final int CONCURRENCY = 500;

    /** When each record's item started and ended (nanoTime), by its index: the order it ran in. */
    record Timings(AtomicLongArray started, AtomicLongArray ended) {
        Timings(int n) {
            this(new AtomicLongArray(n), new AtomicLongArray(n));
        }

        void run(int i) throws InterruptedException {
            started.set(i, System.nanoTime());
            Thread.sleep(ITEM_MILLIS);
            ended.set(i, System.nanoTime());
        }

        /** Records of the first {@code n} that started before the previous record of their key had ended. */
        int orderBroken(int n) {
            Map<Integer, Integer> previous = new HashMap<>();
            int broken = 0;
            for (int i = 0; i < n; i++) {
                Integer before = previous.put(i % KEYS, i);
                if (before != null && started.get(i) < ended.get(before)) {
                    broken++;
                }
            }
            return broken;
        }
    }

    /**
     * Answers every SendMessageBatch with every entry accepted, 10 ms after the call, without a server: what the
     * function's own side costs when SQS is elsewhere (on Lambda it is), apart from ElasticMQ's CPU in this JVM.
     */
    static final class AcceptingClient implements software.amazon.awssdk.services.sqs.SqsClient {
        @Override
        public software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse sendMessageBatch(
                software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest request) {
            long until = System.nanoTime() + 10_000_000;
            for (long left; (left = until - System.nanoTime()) > 0;) {
                java.util.concurrent.locks.LockSupport.parkNanos(left);
            }
            return software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse.builder().successful(
                    request.entries().stream().map(e -> software.amazon.awssdk.services.sqs.model
                            .SendMessageBatchResultEntry.builder().id(e.id()).messageId(java.util.UUID.randomUUID().toString())
                            .md5OfMessageBody("-").build()).toList()).build();
        }

        @Override
        public String serviceName() {
            return "sqs";
        }

        @Override
        public void close() {
        }
    }

    static String loadAverage() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    public static void main(String[] args) throws Exception {
        var out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%n### Kinesis: %,d records over %d partition keys, items of %d ms, C = %d "
                + "(ideal: the longest key's chain, %d x %d ms = %,d ms)%n%n", RECORDS, KEYS, ITEM_MILLIS, CONCURRENCY,
                RECORDS / KEYS, ITEM_MILLIS, RECORDS / KEYS * ITEM_MILLIS));
        out.append("| strategy | time | time / ideal | records run before their key's previous record ended | notes |\n");
        out.append("|---|---|---|---|---|\n");
        long ideal = RECORDS / KEYS * ITEM_MILLIS;
        // the engine alone on the same records in the same keys: what ordering costs, without fan-in
        for (int round = 0; round < 2; round++) {
            List<Integer> indexes = new ArrayList<>();
            for (int i = 0; i < RECORDS; i++) {
                indexes.add(i);
            }
            Timings engine = new Timings(RECORDS);
            long start = System.nanoTime();
            var run = new WorkerPool(Limits.of(CONCURRENCY).withCutoffMargin(Duration.ofSeconds(3))).run(
                    Batch.fifo(indexes, i -> "key-" + (i % KEYS)), context -> {
                        engine.run(context.item());
                        return null;
                    }, Deadline.after(Duration.ofSeconds(120)));
            long ms = (System.nanoTime() - start) / 1_000_000;
            if (round == 1) { // the first run warms the JIT up
                out.append(String.format(Locale.ROOT, "| Fanout engine alone (`WorkerPool`, `Batch.fifo` by key) | %,d ms "
                        + "| %.2f | %d | peak %d at once; item time p50 %d ms, p95 %d ms |%n", ms, ms / (double) ideal,
                        engine.orderBroken(RECORDS), run.summary().peakConcurrency(), run.summary().p50().toMillis(),
                        run.summary().p95().toMillis()));
            }
        }
        try (ElasticMq sqs = ElasticMq.start()) {
            var mapper = new ObjectMapper();
            Timings fanout = new Timings(RECORDS);
            ItemFunctions handlers = TestFunctions.builder(mapper).register("step", (payload, context) -> {
                fanout.run(payload.get("n").asInt());
                return null;
            }).build();
            List<StreamEvents.Put> puts = new ArrayList<>();
            for (int i = 0; i < RECORDS; i++) {
                puts.add(new StreamEvents.Put("key-" + (i % KEYS), StreamEvents.item("r-" + i, "step", "{\"n\":" + i + "}")));
            }
            KinesisEvent event = StreamEvents.kinesis(StreamEvents.kinesisEvent(puts).toString());
            for (int round = 0; round < 3; round++) {
                String queue = sqs.createQueue("stream-figures");
                boolean elasticMq = round < 2;
                var sinkSettings = FanoutSettings.results(queue);
                ItemParser parser = new ItemParser(mapper, Optional.empty());
                var processor = new StreamBatchProcessor(new RecordBatch(new WorkerPool(Limits.of(CONCURRENCY)
                        .withCutoffMargin(Duration.ofSeconds(3))), handlers, parser,
                        new SqsResultsSink(elasticMq ? new SqsEntryPointFigures.DelayedClient(sqs.client(),
                                Duration.ofMillis(10)) : new AcceptingClient(), sinkSettings),
                        mapper, new RecordBatch.Settings(Duration.ofMillis(250), false)), parser, Optional.empty());
                long start = System.nanoTime();
                var invocation = processor.kinesis(event, Deadline.after(Duration.ofSeconds(120)), Optional.empty());
                long answerMs = (System.nanoTime() - start) / 1_000_000;
                ObjectNode s = invocation.summary();
                if (!invocation.response().getBatchItemFailures().isEmpty() || s.get("delivered").asInt() != RECORDS) {
                    throw new IllegalStateException("not every record done: " + s);
                }
                out.append(String.format(Locale.ROOT, "| Fanout `kinesis` entry point, %s | %,d ms (engine %,d ms) | %.2f | %d | peak %d at once; item time p50 %d ms, p95 %d ms; "
                        + "%,d results confirmed, in %,d SendMessageBatch calls; no checkpoint |%n",
                        round == 0 ? "results to ElasticMQ in this JVM, first run"
                                : round == 1 ? "results to ElasticMQ in this JVM, second run"
                                        : "results accepted 10 ms after each call by a stand-in client: no HTTP, no SDK marshalling, no server (`AcceptingClient`)", answerMs, s.get("engineMs").asLong(),
                        answerMs / (double) ideal, fanout.orderBroken(RECORDS), s.get("peakConcurrency").asInt(),
                        s.get("p50Ms").asLong(), s.get("p95Ms").asLong(), s.get("delivered").asInt(),
                        s.get("sendRequests").asInt()));
            }
        }
        String load = loadAverage();
        System.out.print(out);
        out.setLength(0);
        // Powertools' Kinesis handler, its three ways, on the same records (no results queue: it has none)
        for (var spec : List.of(new Object[] { "cf-virtual", RECORDS }, new Object[] { "parallel-stream", 500 },
                new Object[] { "sequential", 100 })) {
            String id = (String) spec[0];
            int n = (Integer) spec[1];
            Strategies.Spec strategy = Strategies.ALL.stream().filter(x -> x.id().equals(id)).findFirst().orElseThrow();
            Timings timings = new Timings(n);
            List<Integer> indexes = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                indexes.add(i);
            }
            long ms;
            try (Strategy running = strategy.create(CONCURRENCY)) {
                long start = System.nanoTime();
                running.run(indexes, i -> {
                    timings.run(i);
                    return null;
                });
                ms = (System.nanoTime() - start) / 1_000_000;
            }
            long total = ms * RECORDS / n;
            out.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %,d of %,d | %s |%n", strategy.label(),
                    n == RECORDS ? String.format(Locale.ROOT, "%,d ms", ms)
                            : String.format(Locale.ROOT, "%,d ms (extrapolated from %,d records in %,d ms)", total, n, ms),
                    total / (double) ideal, timings.orderBroken(n), n, strategy.how().replace("|", "\\|")));
            System.out.print(out);
            out.setLength(0);
        }
        System.out.printf(Locale.ROOT, "%nLoad average when the Fanout runs ended: %s (%d cores)%n", load,
                Runtime.getRuntime().availableProcessors());
    }
}
