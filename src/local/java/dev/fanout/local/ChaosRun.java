package dev.fanout.local;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.FaultProxy;
import dev.fanout.testing.LocalEventSource;
import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.RuntimeApiServer;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * The chaos run: the local pipeline ({@link LocalPipeline}'s parts: the packaged function under AWS's
 * Runtime Interface Client, the event source mapping emulator, ElasticMQ) with faults everywhere at once.
 * The results queue sits behind a {@link FaultProxy} (failed entries, throttles, 5xx, slow calls, lost
 * answers); the items throw, hang, ignore interrupts and carry text SQS refuses; and the function's
 * process is killed with SIGKILL in the middle of invocations and started again. Then every seeded
 * message is accounted for.
 *
 * <pre>./mvnw -B -Pchaos package                                   (the full run, docs/reliability.md)
 * ./mvnw -B -Pchaos package -Dchaos.standard=20000 -Dchaos.fifo=5000  (smaller)</pre>
 */
public final class ChaosRun {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * One run's size and pace.
     *
     * @param maxReceives receives before the dead-letter queue: a kill uses one up, as a timeout does on Lambda
     */
    public record Plan(String name, boolean fifo, int messages, int groups, int batchSize, Duration functionTimeout,
            Duration visibilityTimeout, int maxReceives, Duration killEvery, int maxKills, FaultProxy.Faults faults) {
    }

    /** What one run found. */
    public record Report(Plan plan, int seeded, int results, int distinctResults, int deadLettered, int duplicates,
            int lost, int bothResultAndDeadLettered, int lateAnswers, int orderViolations, int kills, int invocations,
            Map<String, Integer> byStatus, Map<String, Integer> byKind, String proxy, Duration elapsed,
            ReceiveGaps flakyGaps) {

        /**
         * Nothing lost, no answer late, no group out of order. A record with a result that is also in the
         * dead-letter queue is not a breach: its result went out, then the process was killed before it
         * answered, often enough to use up the receives (at least once, like a duplicate).
         */
        public boolean promiseKept() {
            return lost == 0 && lateAnswers == 0 && orderViolations == 0;
        }
    }

    /**
     * The mean time between a record's k-th and (k+1)-th receive, k = 1, 2, 3 ..., over the records whose k-th
     * receive the function's answer handed back (a receive whose invocation was killed comes back at the queue's
     * visibility timeout, not by the backoff), and how many records each mean is over: with the redelivery backoff
     * they grow with k.
     */
    public record ReceiveGaps(List<Double> meanSeconds, List<Integer> records) {

        static ReceiveGaps of(List<List<LocalEventSource.ReceiveTimes.Receive>> receives, int maxGaps) {
            List<Double> means = new ArrayList<>();
            List<Integer> counts = new ArrayList<>();
            for (int k = 1; k <= maxGaps; k++) {
                double sum = 0;
                int n = 0;
                for (var times : receives) {
                    if (times.size() > k && times.get(k - 1).handedBack()) {
                        sum += (times.get(k).nanos() - times.get(k - 1).nanos()) / 1e9;
                        n++;
                    }
                }
                if (n == 0) {
                    break;
                }
                means.add(sum / n);
                counts.add(n);
            }
            return new ReceiveGaps(List.copyOf(means), List.copyOf(counts));
        }

        @Override
        public String toString() {
            var text = new StringBuilder();
            for (int k = 0; k < meanSeconds.size(); k++) {
                text.append(k == 0 ? "" : ", ").append(String.format(java.util.Locale.ROOT, "%d->%d %.1f s (%,d records)",
                        k + 1, k + 2, meanSeconds.get(k), records.get(k)));
            }
            return text.isEmpty() ? "none received twice" : text.toString();
        }
    }

    public static void main(String[] args) throws Exception {
        int standard = Integer.getInteger("chaos.standard", 100_000);
        int fifo = Integer.getInteger("chaos.fifo", 20_000);
        Path out = Path.of(System.getProperty("chaos.out", "target/chaos-report.md"));
        long started = System.nanoTime();
        List<Report> reports = new ArrayList<>();
        if (standard > 0) {
            reports.add(run(standardPlan(standard), System.out));
        }
        if (fifo > 0) {
            reports.add(run(fifoPlan(fifo), System.out));
        }
        Duration wall = Duration.ofNanos(System.nanoTime() - started);
        String table = table(reports, wall);
        System.out.println(table);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, table, StandardCharsets.UTF_8);
        System.exit(reports.stream().allMatch(Report::promiseKept) ? 0 : 1);
    }

    public static Plan standardPlan(int messages) {
        return new Plan("standard", false, messages, 0, 500, Duration.ofSeconds(6), Duration.ofSeconds(10), 5,
                Duration.ofSeconds(20), Integer.MAX_VALUE, new FaultProxy.Faults(5, 5, 5, 3, 10, 300));
    }

    public static Plan fifoPlan(int messages) {
        // Lambda's FIFO batches hold at most 10 records
        return new Plan("fifo", true, messages, 200, 10, Duration.ofSeconds(6), Duration.ofSeconds(10), 5,
                Duration.ofSeconds(20), Integer.MAX_VALUE, new FaultProxy.Faults(5, 5, 5, 3, 10, 300));
    }

    public static Report run(Plan plan, PrintStream out) throws Exception {
        long started = System.nanoTime();
        try (var sqs = ElasticMq.start(); var proxy = FaultProxy.start(sqs.endpoint(), plan.faults())) {
            String suffix = plan.fifo() ? ".fifo" : "";
            String dlq = sqs.createQueue("chaos-work-dlq" + suffix);
            String dlqArn = ElasticMq.attribute(sqs.client(), dlq, QueueAttributeName.QUEUE_ARN);
            Map<QueueAttributeName, String> attributes = new HashMap<>(Map.of(
                    QueueAttributeName.VISIBILITY_TIMEOUT, Long.toString(plan.visibilityTimeout().toSeconds()),
                    QueueAttributeName.REDRIVE_POLICY, "{\"maxReceiveCount\":\"" + plan.maxReceives() + "\",\"deadLetterTargetArn\":\"" + dlqArn + "\"}"));
            if (plan.fifo()) {
                attributes.put(QueueAttributeName.FIFO_QUEUE, "true");
            }
            String work = sqs.client().createQueue(r -> r.queueName("chaos-work" + suffix).attributes(attributes)).queueUrl();
            String results = sqs.createQueue("chaos-results" + suffix);
            Seeded seeded = seed(sqs, work, plan);
            out.printf("[%s] seeded %d messages: %s%n", plan.name(), seeded.kindById().size(), count(seeded.kindById()));

            Map<String, String> env = Map.of("RESULTS_QUEUE_URL", results,
                    "FANOUT_RESULTS_ENDPOINT", proxy.endpoint().toString(),
                    "FANOUT_MAX_CONCURRENCY", "200",
                    // the backoff of handed-back records, scaled to the plan's short visibility timeouts
                    "FANOUT_RETRY_BASE_DELAY", "1s", "FANOUT_RETRY_MAX_DELAY",
                    Long.toString(Math.max(1, plan.visibilityTimeout().toSeconds())) + "s");
            var invocations = new AtomicInteger();
            var late = new AtomicInteger();
            var receiveTimes = new LocalEventSource.ReceiveTimes();
            int kills = 0;
            var inInvocation = new AtomicBoolean();
            var current = new AtomicReference<PackagedFunction>();
            var stop = new AtomicBoolean();
            var killed = new AtomicInteger();
            Thread killer = Thread.ofPlatform().daemon().name("chaos-killer").start(() -> {
                while (!stop.get() && killed.get() < plan.maxKills()) {
                    sleep(plan.killEvery().toMillis() / 2 + ThreadLocalRandom.current().nextLong(plan.killEvery().toMillis()));
                    while (!stop.get() && !inInvocation.get()) {
                        sleep(5);
                    }
                    sleep(ThreadLocalRandom.current().nextLong(plan.functionTimeout().toMillis() / 3));
                    PackagedFunction function = current.get();
                    if (!stop.get() && inInvocation.get() && function != null && function.isAlive()) {
                        kill9(function.pid());
                        killed.incrementAndGet();
                    }
                }
            });
            long lastProgress = System.nanoTime();
            try {
                while (true) {
                    try (var api = RuntimeApiServer.start(); var function = PackagedFunction.start("sqs", api, env)) {
                        current.set(function);
                        var source = new LocalEventSource(sqs.client(), work, api, plan.batchSize(), plan.functionTimeout(),
                                receiveTimes);
                        boolean died = false;
                        while (!died && source.outstanding() > 0) {
                            inInvocation.set(true);
                            try {
                                var round = source.pollAndInvoke();
                                if (round != null) {
                                    invocations.incrementAndGet();
                                    late.addAndGet(round.beforeDeadline() ? 0 : 1);
                                }
                            } catch (AssertionError noAnswer) {
                                died = !function.isAlive(); // its batch comes back after the visibility timeout
                                if (!died) {
                                    throw noAnswer;
                                }
                            } finally {
                                inInvocation.set(false);
                            }
                            if (System.nanoTime() - lastProgress > TimeUnit.SECONDS.toNanos(15)) {
                                lastProgress = System.nanoTime();
                                out.printf("[%s] %s: %d invocations, %d kills, %d outstanding, results queue %s%n",
                                        plan.name(), Instant.now(), invocations.get(), kills, source.outstanding(), proxy.describe());
                            }
                        }
                        if (!died) {
                            break;
                        }
                        kills++;
                    }
                }
            } finally {
                stop.set(true);
                killer.interrupt();
            }
            Report report = report(plan, sqs, results, dlq, seeded, invocations.get(), late.get(), kills, proxy.describe(),
                    System.nanoTime() - started, receiveTimes);
            out.printf("[%s] %s%n", plan.name(), report);
            return report;
        }
    }

    /** What was seeded: the kind of each message id, and for FIFO its group and place in the group. */
    record Seeded(Map<String, String> kindById, Map<String, String> groupById, Map<String, Integer> seqById) {
    }

    /**
     * Most items succeed; some throw for a while (retryable) or for good; a few hang until cancelled,
     * a few ignore the interrupt, and some carry text SQS refuses once it is in a result: a body that is
     * not JSON and starts with an emoji (the parser's message cuts the pair), an id that is a lone
     * surrogate written as a JSON escape.
     */
    static Seeded seed(ElasticMq sqs, String queue, Plan plan) {
        var random = new Random(42);
        Map<String, String> kindById = new HashMap<>();
        Map<String, String> groupById = new HashMap<>();
        Map<String, Integer> seqById = new HashMap<>();
        Map<String, Integer> nextSeq = new HashMap<>();
        List<String[]> batch = new ArrayList<>(); // {kind, body, group}
        long hangMillis = plan.functionTimeout().toMillis() * 100;
        for (int i = 0; i < plan.messages(); i++) {
            int roll = random.nextInt(10_000);
            String[] message;
            if (roll < 3) {
                message = new String[] { "hangs", LocalPipeline.item("delay", "{\"millis\":" + hangMillis + "}") };
            } else if (roll < 5) {
                message = new String[] { "ignores-interrupts", LocalPipeline.item("delay",
                        "{\"millis\":" + plan.functionTimeout().toMillis() + ",\"ignoreCancellation\":true}") };
            } else if (roll < 400) {
                message = new String[] { "throws-then-succeeds", LocalPipeline.item("delay", "{\"millis\":2,\"failRate\":0.5}") };
            } else if (roll < 500) {
                message = new String[] { "throws-for-good", LocalPipeline.item("delay", "{\"millis\":1,\"failRate\":1.0,\"permanent\":true}") };
            } else if (roll < 600) {
                message = new String[] { "poison-emoji", "\uD83D\uDE80 not json " + i };
            } else if (roll < 700) {
                message = new String[] { "poison-id", "{\"id\":\"\\ud83d" + i + "\",\"type\":\"digest\",\"payload\":{\"data\":\"p\"}}" };
            } else if (roll < 5000) {
                message = new String[] { "digest", LocalPipeline.item("digest", "{\"data\":\"item-" + i + "\",\"rounds\":" + (1 + random.nextInt(50)) + "}") };
            } else {
                message = new String[] { "delay", LocalPipeline.item("delay", "{\"millis\":" + random.nextInt(20) + "}") };
            }
            String group = plan.fifo() ? "g" + random.nextInt(plan.groups()) : null;
            batch.add(new String[] { message[0], message[1], group });
            if (batch.size() == 10 || i == plan.messages() - 1) {
                List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
                for (int e = 0; e < batch.size(); e++) {
                    var entry = SendMessageBatchRequestEntry.builder().id(Integer.toString(e)).messageBody(batch.get(e)[1]);
                    if (plan.fifo()) {
                        entry.messageGroupId(batch.get(e)[2]).messageDeduplicationId("seed-" + (i - batch.size() + 1 + e));
                    }
                    entries.add(entry.build());
                }
                var sent = sqs.client().sendMessageBatch(r -> r.queueUrl(queue).entries(entries));
                if (!sent.failed().isEmpty()) {
                    throw new IllegalStateException("seeding failed: " + sent.failed());
                }
                // in entry order, so that each group's sequence is the order SQS holds it in
                sent.successful().stream().sorted(java.util.Comparator.comparingInt(ok -> Integer.parseInt(ok.id())))
                        .forEach(ok -> {
                            String[] m = batch.get(Integer.parseInt(ok.id()));
                            kindById.put(ok.messageId(), m[0]);
                            if (m[2] != null) {
                                groupById.put(ok.messageId(), m[2]);
                                seqById.put(ok.messageId(), nextSeq.merge(m[2], 1, Integer::sum));
                            }
                        });
                batch.clear();
            }
        }
        return new Seeded(kindById, groupById, seqById);
    }

    static Report report(Plan plan, ElasticMq sqs, String results, String dlq, Seeded seeded, int invocations, int late,
            int kills, String proxy, long elapsedNanos, LocalEventSource.ReceiveTimes receiveTimes) throws IOException {
        List<Message> onResults = sqs.drain(results);
        List<Message> deadLettered = sqs.drain(dlq);
        Map<String, Integer> resultsPerSource = new HashMap<>();
        Map<String, Integer> byStatus = new TreeMap<>();
        Map<String, List<Integer>> seqsByGroup = new HashMap<>();
        for (Message m : onResults) {
            JsonNode result = MAPPER.readTree(m.body());
            String source = result.path("sourceMessageId").asText();
            int seen = resultsPerSource.merge(source, 1, Integer::sum);
            byStatus.merge(result.path("status").asText(), 1, Integer::sum);
            if (plan.fifo() && seen == 1 && seeded.groupById().containsKey(source)) {
                seqsByGroup.computeIfAbsent(seeded.groupById().get(source), g -> new ArrayList<>()).add(seeded.seqById().get(source));
            }
        }
        int orderViolations = 0;
        for (List<Integer> seqs : seqsByGroup.values()) {
            for (int i = 1; i < seqs.size(); i++) {
                orderViolations += seqs.get(i) < seqs.get(i - 1) ? 1 : 0;
            }
        }
        Set<String> inDlq = new HashSet<>();
        deadLettered.forEach(m -> inDlq.add(m.messageId()));
        int lost = 0;
        int both = 0;
        Map<String, Integer> lostByKind = new TreeMap<>();
        for (String id : seeded.kindById().keySet()) {
            boolean hasResult = resultsPerSource.containsKey(id);
            boolean dead = inDlq.contains(id);
            if (!hasResult && !dead) {
                lost++;
                lostByKind.merge(seeded.kindById().get(id), 1, Integer::sum);
            }
            both += hasResult && dead ? 1 : 0;
        }
        int unknown = (int) resultsPerSource.keySet().stream().filter(id -> !seeded.kindById().containsKey(id)).count();
        if (unknown > 0 || lost > 0) {
            System.out.printf("[%s] results for unknown ids: %d; lost by kind: %s%n", plan.name(), unknown, lostByKind);
        }
        Map<String, Integer> deadByKind = new TreeMap<>();
        deadLettered.forEach(m -> deadByKind.merge(seeded.kindById().getOrDefault(m.messageId(), "?"), 1, Integer::sum));
        return new Report(plan, seeded.kindById().size(), onResults.size(), resultsPerSource.size(), deadLettered.size(),
                onResults.size() - resultsPerSource.size(), lost, both, late, orderViolations, kills, invocations, byStatus,
                deadByKind, proxy, Duration.ofNanos(elapsedNanos), ReceiveGaps.of(seeded.kindById().entrySet().stream()
                        .filter(e -> e.getValue().equals("throws-then-succeeds")).map(e -> receiveTimes.of(e.getKey()))
                        .toList(), plan.maxReceives() - 1));
    }

    static String table(List<Report> reports, Duration wall) {
        var md = new StringBuilder();
        md.append("| run | messages | results | dead-lettered | of them with a result too | duplicates | lost | "
                + "answered after the deadline | order violations in FIFO groups | kills survived | invocations answered | took |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Report r : reports) {
            md.append(String.format("| %s | %,d | %,d | %,d | %,d | %,d | %d | %d | %s | %d | %,d | %.0f s |%n", r.plan().name(),
                    r.seeded(), r.results(), r.deadLettered(), r.bothResultAndDeadLettered(), r.duplicates(), r.lost(), r.lateAnswers(),
                    r.plan().fifo() ? Integer.toString(r.orderViolations()) : "n/a", r.kills(), r.invocations(),
                    r.elapsed().toMillis() / 1000.0));
        }
        md.append(String.format("%nWall time of the whole run: %.0f s.%n%n", wall.toMillis() / 1000.0));
        for (Report r : reports) {
            md.append(String.format("- %s: results by status %s; dead-lettered by kind %s; results queue faults: %s; "
                    + "promise kept: %s%n", r.plan().name(), r.byStatus(), r.byKind(), r.proxy(),
                    r.promiseKept() ? "yes" : "NO"));
            md.append(String.format("- %s: a flaky record's receives (throws-then-succeeds: each delivery fails half the"
                    + " time), mean time from a receive the answer handed back to the next receive: %s%n", r.plan().name(), r.flakyGaps()));
        }
        return md.toString();
    }

    private static Map<String, Integer> count(Map<String, String> kinds) {
        Map<String, Integer> counts = new TreeMap<>();
        kinds.values().forEach(k -> counts.merge(k, 1, Integer::sum));
        return counts;
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
