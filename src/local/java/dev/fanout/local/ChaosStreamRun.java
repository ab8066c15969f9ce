package dev.fanout.local;

import java.io.IOException;
import java.io.PrintStream;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.FaultProxy;
import dev.fanout.testing.KinesisEventSource;
import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.RuntimeApiServer;
import dev.fanout.testing.StreamEvents;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * The chaos run's stream row: records through the emulated Kinesis stream and event source mapping
 * ({@link KinesisEventSource}: shards, batches, replay from the reported sequence number, bisect on an invocation
 * error, the on-failure destination after the retry limit) into the packaged {@code kinesis} entry point under
 * AWS's Runtime Interface Client, with the same faults as the SQS runs: the FIFO results queue behind a
 * {@link FaultProxy}, items that throw, hang, ignore interrupts and carry text SQS refuses, and the function's
 * process killed with SIGKILL in the middle of invocations (the mapping sees an invocation error, as it would
 * for a Lambda timeout, and bisects) and started again.
 * <p>
 * Counted after the stream is drained: a record with no result on the results queue that no on-failure
 * destination message describes is <b>lost</b>; a key whose first results are not in sequence order is
 * <b>out of order</b>; a result beyond the first for a record is a <b>duplicate</b> (the FIFO results queue drops
 * a result sent again by its deduplication id, the record's {@code shardId:sequenceNumber}, which is checked on
 * every result); an answer after the invocation's deadline is <b>late</b>.
 */
public final class ChaosStreamRun {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** One run's size and pace. */
    public record Plan(int records, int keys, int shards, int batchSize, int maxRetryAttempts, Duration functionTimeout,
            Duration killEvery, int maxKills, FaultProxy.Faults faults) {
    }

    /**
     * What the run found.
     *
     * @param resentResults        results the function sent again (a record's deduplication id seen before by the
     *                             results queue's proxy): replays after a kill or after the checkpoint
     * @param wrongDeduplicationId results whose deduplication id is not their record's id
     * @param leastMarginMillis    the least time any answer left before its deadline (negative: late)
     */
    public record Report(Plan plan, int seeded, int results, int distinctResults, int duplicates, int resentResults,
            int wrongDeduplicationId, int describedByDestination, int withResultToo, int lost, int outOfOrder,
            int lateAnswers, long leastMarginMillis, int kills, int invocations, int replays, int bisects, Map<String, Integer> byStatus,
            Map<String, Integer> destinationByKind, String proxy, Duration elapsed) {

        public boolean promiseKept() {
            return lost == 0 && outOfOrder == 0 && lateAnswers == 0 && duplicates == 0 && wrongDeduplicationId == 0;
        }
    }

    public static Plan plan(int records) {
        return new Plan(records, 100, 4, 100, 10, Duration.ofSeconds(6), Duration.ofSeconds(20), Integer.MAX_VALUE,
                new FaultProxy.Faults(5, 5, 5, 3, 10, 300));
    }

    public static Report run(Plan plan, PrintStream out) throws Exception {
        long started = System.nanoTime();
        try (var sqs = ElasticMq.start(); var proxy = FaultProxy.start(sqs.endpoint(), plan.faults())) {
            String results = sqs.createQueue("chaos-stream-results.fifo");
            String failures = sqs.createQueue("chaos-stream-failures");
            var source = new KinesisEventSource(StreamEvents.STREAM_ARN, plan.shards(), plan.batchSize(),
                    plan.maxRetryAttempts(), true, sqs.client(), failures);
            Map<String, String> kindById = new HashMap<>();
            Map<String, String> keyById = new HashMap<>();
            var random = new Random(42);
            for (int i = 0; i < plan.records(); i++) {
                String[] item = item(i, random, plan);
                var entry = source.put("customer-" + random.nextInt(plan.keys()), item[1]);
                String id = entry.shardId() + ":" + entry.sequenceNumber();
                kindById.put(id, item[0]);
                keyById.put(id, entry.partitionKey());
            }
            out.printf("[stream] seeded %d records over %d keys and %d shards: %s%n", plan.records(), plan.keys(),
                    plan.shards(), count(kindById));
            Map<String, String> env = Map.of("RESULTS_QUEUE_URL", results,
                    "FANOUT_RESULTS_ENDPOINT", proxy.endpoint().toString(),
                    // the default cut-off margin (3 s), as in the SQS runs
                    "FANOUT_MAX_CONCURRENCY", "200");

            var late = new AtomicInteger();
            var leastMargin = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
            var kills = new AtomicInteger();
            var invocations = new AtomicInteger();
            var inInvocation = new AtomicBoolean();
            var stop = new AtomicBoolean();
            var api = new AtomicReference<RuntimeApiServer>(RuntimeApiServer.start());
            var function = new AtomicReference<PackagedFunction>(PackagedFunction.start("kinesis", api.get(), env));
            Thread killer = Thread.ofPlatform().daemon().name("chaos-stream-killer").start(() -> {
                int killed = 0;
                while (!stop.get() && killed < plan.maxKills()) {
                    sleep(plan.killEvery().toMillis() / 2 + ThreadLocalRandom.current().nextLong(plan.killEvery().toMillis()));
                    while (!stop.get() && !inInvocation.get()) {
                        sleep(5);
                    }
                    sleep(ThreadLocalRandom.current().nextLong(plan.functionTimeout().toMillis() / 3));
                    PackagedFunction current = function.get();
                    if (!stop.get() && inInvocation.get() && current.isAlive()) {
                        kill9(current.pid());
                        killed++;
                    }
                }
            });
            KinesisEventSource.Counts counts;
            try {
                counts = source.drain(json -> {
                    invocations.incrementAndGet();
                    inInvocation.set(true);
                    try {
                        var result = api.get().invoke(json, plan.functionTimeout());
                        late.addAndGet(result.answeredBeforeDeadline() ? 0 : 1);
                        leastMargin.accumulateAndGet(result.deadlineEpochMillis() - result.answeredEpochMillis(), Math::min);
                        if (result.error()) {
                            return KinesisEventSource.Answer.failed();
                        }
                        List<String> reported = new ArrayList<>();
                        MAPPER.readTree(result.body()).path("batchItemFailures")
                                .forEach(f -> reported.add(f.get("itemIdentifier").asText()));
                        return new KinesisEventSource.Answer(reported, false);
                    } catch (AssertionError noAnswer) {
                        if (function.get().isAlive()) {
                            throw noAnswer;
                        }
                        // killed: Lambda sees an invocation error (as for a timeout) and starts a new environment
                        kills.incrementAndGet();
                        api.get().close();
                        api.set(newRuntimeApi());
                        function.set(PackagedFunction.start("kinesis", api.get(), env));
                        return KinesisEventSource.Answer.failed();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    } finally {
                        inInvocation.set(false);
                        if (invocations.get() % 20 == 0) {
                            out.printf("[stream] %d invocations, %d kills, %.0f s, results queue %s%n", invocations.get(),
                                    kills.get(), (System.nanoTime() - started) / 1e9, proxy.describe());
                        }
                    }
                });
            } finally {
                stop.set(true);
                killer.interrupt();
                function.get().close();
                api.get().close();
            }
            Report report = report(plan, sqs, results, failures, kindById, keyById, counts, invocations.get(), late.get(),
                    leastMargin.get(), kills.get(), proxy, System.nanoTime() - started);
            out.printf("[stream] %s%n", report);
            return report;
        }
    }

    /**
     * The SQS runs' mix, on a stream: most items succeed, some throw for a while or for good, one hangs until
     * cancelled and one ignores its interrupt, and some carry text SQS refuses once it is in a result (data
     * that is not JSON and starts with an emoji, an item id that is a lone surrogate).
     */
    static String[] item(int i, Random random, Plan plan) {
        int roll = random.nextInt(1000);
        if (i == 7) {
            return new String[] { "hangs", StreamEvents.item("r-" + i, "delay",
                    "{\"millis\":" + plan.functionTimeout().toMillis() * 100 + "}") };
        } else if (i == 11) {
            return new String[] { "ignores-interrupts", StreamEvents.item("r-" + i, "delay",
                    "{\"millis\":" + plan.functionTimeout().toMillis() + ",\"ignoreCancellation\":true}") };
        } else if (roll < 30) {
            return new String[] { "throws-then-succeeds", StreamEvents.item("r-" + i, "delay",
                    "{\"millis\":2,\"failRate\":0.33}") };
        } else if (roll < 40) {
            return new String[] { "throws-for-good", StreamEvents.item("r-" + i, "delay",
                    "{\"millis\":1,\"failRate\":1.0,\"permanent\":true}") };
        } else if (roll < 50) {
            return new String[] { "poison-emoji", "\uD83D\uDE80 not json " + i };
        } else if (roll < 60) {
            return new String[] { "poison-id", "{\"id\":\"\\ud83d" + i + "\",\"type\":\"digest\",\"payload\":{\"data\":\"p\"}}" };
        } else if (roll < 500) {
            return new String[] { "digest", StreamEvents.item("r-" + i, "digest",
                    "{\"data\":\"item-" + i + "\",\"rounds\":" + (1 + random.nextInt(50)) + "}") };
        }
        return new String[] { "delay", StreamEvents.item("r-" + i, "delay", "{\"millis\":" + random.nextInt(20) + "}") };
    }

    static Report report(Plan plan, ElasticMq sqs, String results, String failures, Map<String, String> kindById,
            Map<String, String> keyById, KinesisEventSource.Counts counts, int invocations, int late, long leastMargin,
            int kills, FaultProxy proxy, long elapsedNanos) throws IOException {
        Map<String, Integer> resultsPerRecord = new HashMap<>();
        Map<String, List<String>> firstResultsByKey = new HashMap<>();
        Map<String, Integer> byStatus = new TreeMap<>();
        List<Message> onQueue = sqs.drain(results);
        int wrongDeduplicationId = 0;
        for (Message m : onQueue) {
            JsonNode result = MAPPER.readTree(m.body());
            String id = result.path("sourceMessageId").asText();
            wrongDeduplicationId += id.equals(m.attributes().get(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID)) ? 0 : 1;
            byStatus.merge(result.path("status").asText(), 1, Integer::sum);
            if (resultsPerRecord.merge(id, 1, Integer::sum) == 1) {
                firstResultsByKey.computeIfAbsent(keyById.get(id), k -> new ArrayList<>()).add(id);
            }
        }
        int outOfOrder = 0;
        for (List<String> ids : firstResultsByKey.values()) {
            for (int i = 1; i < ids.size(); i++) {
                outOfOrder += sequence(ids.get(i - 1)).compareTo(sequence(ids.get(i))) > 0 ? 1 : 0;
            }
        }
        List<JsonNode> failedBatches = sqs.drain(failures).stream().map(m -> KinesisEventSource.batchInfo(m.body())).toList();
        int lost = 0;
        int described = 0;
        int both = 0;
        Map<String, Integer> destinationByKind = new TreeMap<>();
        Map<String, Integer> lostByKind = new TreeMap<>();
        for (var record : kindById.entrySet()) {
            String id = record.getKey();
            boolean hasResult = resultsPerRecord.containsKey(id);
            boolean inDestination = failedBatches.stream().anyMatch(b -> LocalStreamPipeline.covers(b, id));
            if (inDestination) {
                described++;
                both += hasResult ? 1 : 0;
                if (!hasResult) {
                    destinationByKind.merge(record.getValue(), 1, Integer::sum);
                }
            } else if (!hasResult) {
                lost++;
                lostByKind.merge(record.getValue(), 1, Integer::sum);
            }
        }
        if (lost > 0) {
            System.out.printf("[stream] lost by kind: %s%n", lostByKind);
        }
        return new Report(plan, kindById.size(), onQueue.size(), resultsPerRecord.size(),
                onQueue.size() - resultsPerRecord.size(), proxy.repeatedDeduplicationIds.get(), wrongDeduplicationId,
                described, both, lost, outOfOrder, late, leastMargin, kills, invocations, counts.replays(), counts.bisects(), byStatus,
                destinationByKind, proxy.describe(), Duration.ofNanos(elapsedNanos));
    }

    static String table(Report r) {
        var md = new StringBuilder();
        md.append("| run | records | results | duplicates on the queue | results sent again (dropped by their "
                + "deduplication id) | described by the on-failure destination | of them with a result too | lost | "
                + "out of key order | answered after the deadline | kills survived | invocations | replays | bisects | took |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        md.append(String.format("| stream (Kinesis, FIFO results) | %,d | %,d | %d | %,d | %,d | %,d | %d | %d | %d | %d | %,d | %,d | %,d | %.0f s |%n",
                r.seeded(), r.results(), r.duplicates(), r.resentResults(), r.describedByDestination(), r.withResultToo(),
                r.lost(), r.outOfOrder(), r.lateAnswers(), r.kills(), r.invocations(), r.replays(), r.bisects(),
                r.elapsed().toMillis() / 1000.0));
        md.append(String.format("%n- stream: results by status %s; records the destination describes, without a result, by "
                + "kind %s; deduplication ids not the record's id: %d; least time an answer left before its deadline: %d ms; results queue faults: %s; promise kept: %s%n",
                r.byStatus(), r.destinationByKind(), r.wrongDeduplicationId(), r.leastMarginMillis(), r.proxy(), r.promiseKept() ? "yes" : "NO"));
        return md.toString();
    }

    static BigInteger sequence(String id) {
        return LocalStreamPipeline.sequence(id);
    }

    private static Map<String, Integer> count(Map<String, String> kinds) {
        Map<String, Integer> counts = new TreeMap<>();
        kinds.values().forEach(k -> counts.merge(k, 1, Integer::sum));
        return counts;
    }

    private static RuntimeApiServer newRuntimeApi() {
        try {
            return RuntimeApiServer.start();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void kill9(long pid) {
        try {
            new ProcessBuilder("kill", "-KILL", Long.toString(pid)).inheritIO().start().waitFor();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
