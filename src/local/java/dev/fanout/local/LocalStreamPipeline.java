package dev.fanout.local;

import java.io.PrintStream;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.EmfLog;
import dev.fanout.testing.KinesisEventSource;
import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.RuntimeApiServer;
import dev.fanout.testing.StreamEvents;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The main job on a Kinesis stream ({@code ./mvnw -Plocal package -Dlocal.source=kinesis}): the packaged
 * {@code kinesis} entry point under AWS's Runtime Interface Client, an emulated stream of 4 shards and its event
 * source mapping ({@link KinesisEventSource}: batches of 100, replay from the reported sequence number, bisect, 5
 * retries, an on-failure destination queue), a FIFO results queue. It seeds a mix of items over 50 partition
 * keys, drains the stream and checks the promise: every record has its result on the results queue exactly once,
 * or lies in a batch the on-failure destination describes; each key's results are in sequence order; every
 * invocation answered before its deadline.
 */
public final class LocalStreamPipeline {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    static final int KEYS = 50;

    /** What the run found. */
    public record Report(int seeded, int invocations, int replays, int bisects, int results, int lost,
            int orderBroken, int duplicates, int lateAnswers, int failedBatches, int recordsInFailedBatches) {

        public boolean promiseKept() {
            return lost == 0 && orderBroken == 0 && duplicates == 0 && lateAnswers == 0;
        }
    }

    public static void main(String[] args) throws Exception {
        int records = Integer.getInteger("local.messages", 2_000);
        Report report = run(records, Duration.ofSeconds(5), System.out);
        System.exit(report.promiseKept() ? 0 : 1);
    }

    public static Report run(int records, Duration functionTimeout, PrintStream out) throws Exception {
        long started = System.nanoTime();
        try (var sqs = ElasticMq.start(); var api = RuntimeApiServer.start()) {
            String results = sqs.createQueue("fanout-results.fifo");
            String failures = sqs.createQueue("fanout-stream-failures");
            var source = new KinesisEventSource(StreamEvents.STREAM_ARN, 4, 100, 5, true, sqs.client(), failures);
            Map<String, String> kindById = new HashMap<>();
            Map<String, String> keyById = new HashMap<>();
            var random = new Random(42);
            for (int i = 0; i < records; i++) {
                String[] item = item(i, random);
                var entry = source.put("customer-" + random.nextInt(KEYS), item[1]);
                String id = entry.shardId() + ":" + entry.sequenceNumber();
                kindById.put(id, item[0]);
                keyById.put(id, entry.partitionKey());
            }
            out.printf("seeded %d records over %d partition keys and 4 shards: %s%n", records, KEYS, count(kindById));
            Map<String, String> env = Map.of("RESULTS_QUEUE_URL", results, "FANOUT_RESULTS_ENDPOINT",
                    sqs.endpoint().toString(), "FANOUT_CUTOFF_MARGIN", "1500ms", "FANOUT_MAX_CONCURRENCY", "200");
            int[] late = { 0 };
            int[] invocation = { 0 };
            KinesisEventSource.Counts counts;
            String log;
            try (var function = PackagedFunction.start("kinesis", api, env)) {
                counts = source.drain(json -> {
                    try {
                        var result = api.invoke(json, functionTimeout);
                        late[0] += result.answeredBeforeDeadline() ? 0 : 1;
                        List<String> reported = new ArrayList<>();
                        if (!result.error()) {
                            MAPPER.readTree(result.body()).path("batchItemFailures")
                                    .forEach(f -> reported.add(f.get("itemIdentifier").asText()));
                        }
                        out.printf("invocation %3d: %3d records, %s, answered in %5d ms of %d, %.0f s%n", ++invocation[0],
                                MAPPER.readTree(json).get("Records").size(), result.error() ? "invocation error"
                                        : reported.isEmpty() ? "all done" : "resume at " + reported.get(0),
                                result.elapsed().toMillis(), functionTimeout.toMillis(), (System.nanoTime() - started) / 1e9);
                        return result.error() ? KinesisEventSource.Answer.failed()
                                : new KinesisEventSource.Answer(reported, false);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                log = function.log();
                out.println("function log: " + function.logFile().toAbsolutePath());
            }
            return report(sqs, results, failures, kindById, keyById, counts, late[0], log, out, started);
        }
    }

    /** A mix: most items succeed, some fail for a while, some for good, a few are malformed, one hangs. */
    static String[] item(int i, Random random) {
        int roll = random.nextInt(100);
        if (i == 7) {
            return new String[] { "hangs", StreamEvents.item("r-" + i, "delay", "{\"millis\":600000}") };
        } else if (roll < 40) {
            return new String[] { "delay", StreamEvents.item("r-" + i, "delay", "{\"millis\":" + random.nextInt(100) + "}") };
        } else if (roll < 75) {
            return new String[] { "digest", StreamEvents.item("r-" + i, "digest",
                    "{\"data\":\"item-" + i + "\",\"rounds\":" + (1 + random.nextInt(2000)) + "}") };
        } else if (roll < 88) {
            // fails one time in three: succeeds on a replay
            return new String[] { "flaky", StreamEvents.item("r-" + i, "delay", "{\"millis\":5,\"failRate\":0.33}") };
        } else if (roll < 93) {
            return new String[] { "permanent", StreamEvents.item("r-" + i, "delay",
                    "{\"millis\":5,\"failRate\":1,\"permanent\":true}") };
        } else if (roll < 97) {
            return new String[] { "malformed", "{\"type\": \"digest\", \"payload\": " };
        }
        return new String[] { "unknown-type", StreamEvents.item("r-" + i, "geocode", "{}") };
    }

    static Report report(ElasticMq sqs, String results, String failures, Map<String, String> kindById,
            Map<String, String> keyById, KinesisEventSource.Counts counts, int late, String log, PrintStream out,
            long started) throws Exception {
        Map<String, List<String>> byKey = new HashMap<>();
        Set<String> seen = new HashSet<>();
        int duplicates = 0;
        Map<String, Map<String, Integer>> statusByKind = new TreeMap<>();
        for (Message m : sqs.drain(results)) {
            JsonNode result = MAPPER.readTree(m.body());
            String id = result.get("sourceMessageId").asText();
            duplicates += seen.add(id) ? 0 : 1;
            byKey.computeIfAbsent(keyById.get(id), k -> new ArrayList<>()).add(id);
            statusByKind.computeIfAbsent(kindById.getOrDefault(id, "?"), k -> new TreeMap<>())
                    .merge(result.get("status").asText(), 1, Integer::sum);
        }
        int orderBroken = 0;
        for (List<String> ids : byKey.values()) {
            for (int i = 1; i < ids.size(); i++) {
                orderBroken += sequence(ids.get(i - 1)).compareTo(sequence(ids.get(i))) > 0 ? 1 : 0;
            }
        }
        List<JsonNode> failedBatches = sqs.drain(failures).stream().map(m -> KinesisEventSource.batchInfo(m.body())).toList();
        int lost = 0;
        Map<String, Integer> describedByKind = new TreeMap<>();
        for (String id : kindById.keySet()) {
            if (seen.contains(id)) {
                continue;
            }
            if (failedBatches.stream().anyMatch(b -> covers(b, id))) {
                describedByKind.merge(kindById.get(id), 1, Integer::sum);
            } else {
                lost++;
            }
        }
        var report = new Report(kindById.size(), counts.invocations(), counts.replays(), counts.bisects(), seen.size(),
                lost, orderBroken, duplicates, late, failedBatches.size(), counts.recordsToDestination());
        out.println();
        out.printf("results queue (FIFO): %d results for %d records%n", seen.size() + duplicates, kindById.size());
        statusByKind.forEach((kind, statuses) -> out.printf("  %-13s %s%n", kind, statuses));
        out.printf("on-failure destination: %d batches of %d records; records without a result there: %s%n",
                failedBatches.size(), counts.recordsToDestination(), describedByKind);
        out.printf("mapping: %d invocations, %d replays from a reported sequence number, %d bisects; answered after "
                + "their deadline: %d%n", counts.invocations(), counts.replays(), counts.bisects(), late);
        out.println("the function's metrics (its EMF log events, added up as CloudWatch would):");
        EmfLog.totals(EmfLog.events(log)).forEach((name, total) -> out.printf("  %-20s %s%n", name, total));
        out.printf("every record has its result once, in key order, or is described by the destination: %s (lost %d, "
                + "duplicates %d, out of key order %d)%n", report.promiseKept() ? "YES" : "NO", lost, duplicates, orderBroken);
        out.printf("took %.1f s%n", (System.nanoTime() - started) / 1e9);
        return report;
    }

    static BigInteger sequence(String id) {
        return new BigInteger(id.substring(id.indexOf(':') + 1));
    }

    static boolean covers(JsonNode batch, String id) {
        BigInteger s = sequence(id);
        return id.startsWith(batch.get("shardId").asText() + ":")
                && s.compareTo(new BigInteger(batch.get("startSequenceNumber").asText())) >= 0
                && s.compareTo(new BigInteger(batch.get("endSequenceNumber").asText())) <= 0;
    }

    private static Map<String, Integer> count(Map<String, String> kinds) {
        Map<String, Integer> counts = new TreeMap<>();
        kinds.values().forEach(k -> counts.merge(k, 1, Integer::sum));
        return counts;
    }
}
