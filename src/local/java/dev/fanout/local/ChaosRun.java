package dev.fanout.local;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
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

import com.sun.net.httpserver.HttpServer;

import dev.fanout.testing.Dynalite;
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
 * With {@code chaos.effects} messages more, the same faults and kills run twice more with side effects counted
 * outside the function: once unguarded, once with the side effect's function idempotent (docs/idempotency.md).
 *
 * <pre>./mvnw -B -Pchaos package                                   (the full run, docs/reliability.md)
 * ./mvnw -B -Pchaos package -Dchaos.standard=20000 -Dchaos.fifo=5000  (smaller)
 * ./mvnw -B -Pchaos package -Dchaos.standard=0 -Dchaos.fifo=0 -Dchaos.stream=3000  (the stream row alone)
 * ./mvnw -B -Pchaos package -Dchaos.standard=0 -Dchaos.fifo=0 -Dchaos.stream=0 -Dchaos.effects=3000  (side effects)
 * ./mvnw -B -Pchaos package -Dchaos.standard=0 -Dchaos.fifo=0 -Dchaos.stream=0 -Dchaos.backoff=2000  (the backoff seen)</pre>
 *
 * The stream row ({@link ChaosStreamRun}) runs after them: a Kinesis stream, {@code -Dchaos.stream=N} records.
 */
public final class ChaosRun {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * One run's size and pace.
     *
     * @param maxReceives receives before the dead-letter queue: a kill uses one up, as a timeout does on Lambda
     * @param sideEffects whether some items have a side effect counted outside the function, and whether their
     *                    function is idempotent
     * @param retryBase   the function's {@code fanout.retry.base-delay}: the backoff of handed-back records
     * @param retryMax    the function's {@code fanout.retry.max-delay}
     */
    public record Plan(String name, boolean fifo, int messages, int groups, int batchSize, Duration functionTimeout,
            Duration visibilityTimeout, int maxReceives, Duration killEvery, int maxKills, FaultProxy.Faults faults,
            SideEffects sideEffects, Duration retryBase, Duration retryMax) {

        /** A plan whose backoff is scaled to its short visibility timeout: base 1 s, max the visibility timeout. */
        public Plan(String name, boolean fifo, int messages, int groups, int batchSize, Duration functionTimeout,
                Duration visibilityTimeout, int maxReceives, Duration killEvery, int maxKills, FaultProxy.Faults faults,
                SideEffects sideEffects) {
            this(name, fifo, messages, groups, batchSize, functionTimeout, visibilityTimeout, maxReceives, killEvery,
                    maxKills, faults, sideEffects, Duration.ofSeconds(1),
                    Duration.ofSeconds(Math.max(1, visibilityTimeout.toSeconds())));
        }

        /** This plan under another name, with side effects. */
        public Plan with(String name, SideEffects effects) {
            return new Plan(name, fifo, messages, groups, batchSize, functionTimeout, visibilityTimeout, maxReceives,
                    killEvery, maxKills, faults, effects, retryBase, retryMax);
        }
    }

    /**
     * The side effects of a run: none (the digests of the other items instead), or an {@code http} item per effect
     * that POSTs to a counter in this process ({@link EffectCounter}), with the {@code http} function plain or made
     * idempotent by configuration against a dynalite table.
     */
    public enum SideEffects {
        NONE, UNGUARDED, IDEMPOTENT
    }

    /** What one run found. */
    public record Report(Plan plan, int seeded, int results, int distinctResults, int deadLettered, int duplicates,
            int lost, int bothResultAndDeadLettered, int lateAnswers, int orderViolations, int kills, int invocations,
            Map<String, Integer> byStatus, Map<String, Integer> byKind, String proxy, Duration elapsed, Effects effects,
            ReceiveGaps flakyGaps) {

        /**
         * Nothing lost, no answer late, no group out of order. A record with a result that is also in the
         * dead-letter queue is not a breach: its result went out, then the process was killed before it
         * answered, often enough to use up the receives (at least once, like a duplicate).
         */
        public boolean promiseKept() {
            return lost == 0 && lateAnswers == 0 && orderViolations == 0
                    && (plan.sideEffects() != SideEffects.IDEMPOTENT || effects.ranAfterCompletion() == 0);
        }
    }

    /**
     * What the side-effect counter saw.
     *
     * @param items                 items with a side effect
     * @param ran                   of them, how many ran it at least once
     * @param twice                 of them, how many ran it more than once
     * @param extraRuns             the runs beyond the first, summed
     * @param interruptedInTheWindow items whose side effect had run while their record was still in progress when a
     *                              kill ended the process: the window between the side effect and its completion
     *                              record, which no store can close
     * @param twiceOutsideTheWindow items run more than once that no kill interrupted in that window: their earlier
     *                              run ended between its side effect and its completion otherwise (its deadline cut
     *                              it off while it waited for the side effect's answer, or it failed after it)
     * @param ranAfterCompletion    items claimed again (so run again) after their completion was stored, as the
     *                              store's traffic shows: what idempotency promises never happens
     */
    public record Effects(int items, int ran, int twice, int extraRuns, int interruptedInTheWindow,
            int twiceOutsideTheWindow, int ranAfterCompletion) {
        static final Effects NONE = new Effects(0, 0, 0, 0, 0, 0, 0);
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
        int stream = Integer.getInteger("chaos.stream", 10_000);
        int effects = Integer.getInteger("chaos.effects", 0);
        int backoff = Integer.getInteger("chaos.backoff", 0);
        Path out = Path.of(System.getProperty("chaos.out", "target/chaos-report.md"));
        long started = System.nanoTime();
        List<Report> reports = new ArrayList<>();
        if (standard > 0) {
            reports.add(run(standardPlan(standard), System.out));
        }
        if (fifo > 0) {
            reports.add(run(fifoPlan(fifo), System.out));
        }
        if (backoff > 0) {
            reports.add(run(backoffPlan(backoff), System.out));
        }
        if (effects > 0) {
            if (!Boolean.getBoolean("chaos.idempotentOnly")) {
                reports.add(run(standardPlan(effects).with("side effects, unguarded", SideEffects.UNGUARDED), System.out));
            }
            reports.add(run(standardPlan(effects).with("side effects, idempotent", SideEffects.IDEMPOTENT), System.out));
        }
        ChaosStreamRun.Report streamReport = stream > 0 ? ChaosStreamRun.run(ChaosStreamRun.plan(stream), System.out) : null;
        Duration wall = Duration.ofNanos(System.nanoTime() - started);
        String table = (reports.isEmpty() ? "" : table(reports, wall))
                + (streamReport == null ? "" : "\n" + ChaosStreamRun.table(streamReport));
        System.out.println(table);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, table, StandardCharsets.UTF_8);
        System.exit(reports.stream().allMatch(Report::promiseKept) && (streamReport == null || streamReport.promiseKept())
                ? 0 : 1);
    }

    public static Plan standardPlan(int messages) {
        return new Plan("standard", false, messages, 0, 500, Duration.ofSeconds(6), Duration.ofSeconds(10), 5,
                Duration.ofSeconds(20), Integer.MAX_VALUE, new FaultProxy.Faults(5, 5, 5, 3, 10, 300), SideEffects.NONE);
    }

    /**
     * The standard plan's records and faults with a backoff longer than the pipeline's own cycle (batches of 100,
     * base 8 s, max 2 min, 8 receives): the flaky records' receives grow apart in the report, where the standard
     * plan's 1-10 s backoff is hidden behind its poller.
     */
    public static Plan backoffPlan(int messages) {
        return new Plan("backoff", false, messages, 0, 100, Duration.ofSeconds(6), Duration.ofSeconds(10), 8,
                Duration.ofSeconds(20), Integer.MAX_VALUE, new FaultProxy.Faults(5, 5, 5, 3, 10, 300), SideEffects.NONE,
                Duration.ofSeconds(8), Duration.ofMinutes(2));
    }

    public static Plan fifoPlan(int messages) {
        // Lambda's FIFO batches hold at most 10 records
        return new Plan("fifo", true, messages, 200, 10, Duration.ofSeconds(6), Duration.ofSeconds(10), 5,
                Duration.ofSeconds(20), Integer.MAX_VALUE, new FaultProxy.Faults(5, 5, 5, 3, 10, 300), SideEffects.NONE);
    }

    public static Report run(Plan plan, PrintStream out) throws Exception {
        long started = System.nanoTime();
        boolean idempotent = plan.sideEffects() == SideEffects.IDEMPOTENT;
        try (var sqs = ElasticMq.start(); var proxy = FaultProxy.start(sqs.endpoint(), plan.faults());
                var counter = EffectCounter.start(); var dynalite = idempotent ? Dynalite.start() : null;
                var claims = idempotent ? ClaimWatch.start(dynalite.endpoint()) : null) {
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
            Seeded seeded = seed(sqs, work, plan, counter.base());
            String table = idempotent ? dynalite.createTable() : null;
            out.printf("[%s] seeded %d messages: %s%n", plan.name(), seeded.kindById().size(), count(seeded.kindById()));

            Map<String, String> env = new HashMap<>(Map.of("RESULTS_QUEUE_URL", results,
                    "FANOUT_RESULTS_ENDPOINT", proxy.endpoint().toString(),
                    "FANOUT_MAX_CONCURRENCY", "200",
                    // the backoff of handed-back records, the plan's
                    "FANOUT_RETRY_BASE_DELAY", plan.retryBase().toSeconds() + "s",
                    "FANOUT_RETRY_MAX_DELAY", plan.retryMax().toSeconds() + "s"));
            if (plan.sideEffects() != SideEffects.NONE) {
                // one attempt per run: a side effect's call is not repeated inside the item (a payment's would not
                // be), so every repeat the counter sees is a run of the item
                env.putAll(Map.of("FANOUT_HTTP_ALLOW", "127.0.0.1/32", "FANOUT_HTTP_MAX_ATTEMPTS", "1"));
            }
            if (idempotent) {
                env.putAll(Map.of("FANOUT_IDEMPOTENCY_TABLE", table,
                        "FANOUT_IDEMPOTENCY_ENDPOINT", claims.endpoint().toString(),
                        "FANOUT_IDEMPOTENCY_FUNCTIONS", "http"));
            }
            // items whose side effect ran while their record was still in progress when a kill ended the process
            Set<String> inTheWindow = java.util.concurrent.ConcurrentHashMap.newKeySet();
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
                    if (plan.sideEffects() == SideEffects.NONE) {
                        sleep(ThreadLocalRandom.current().nextLong(plan.functionTimeout().toMillis() / 3));
                    } else {
                        // kill while side effects run, not while the process starts: that is the window counted
                        awaitEffects(counter, counter.total(), plan.functionTimeout());
                        sleep(ThreadLocalRandom.current().nextLong(30));
                    }
                    PackagedFunction function = current.get();
                    if (!stop.get() && inInvocation.get() && function != null && function.isAlive()) {
                        // the next process starts only once the records the killed one left are read
                        synchronized (inTheWindow) {
                            kill9(function.pid());
                            killed.incrementAndGet();
                            if (idempotent) {
                                awaitDeath(function);
                                try {
                                    inTheWindow.addAll(interrupted(dynalite, table, counter, seeded));
                                } catch (RuntimeException e) {
                                    out.printf("[%s] the records could not be read after a kill: %s%n", plan.name(), e);
                                }
                            }
                        }
                    }
                }
            });
            long lastProgress = System.nanoTime();
            try {
                while (true) {
                    synchronized (inTheWindow) {
                        // no process runs while the killer reads the records the last one left
                    }
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
            Effects effects = plan.sideEffects() == SideEffects.NONE ? Effects.NONE
                    : effects(seeded, counter, inTheWindow, out, plan, claims);
            Report report = report(plan, sqs, results, dlq, seeded, invocations.get(), late.get(), kills, proxy.describe(),
                    System.nanoTime() - started, effects, receiveTimes);
            out.printf("[%s] %s%n", plan.name(), report);
            return report;
        }
    }

    /**
     * What was seeded: the kind of each message id, for FIFO its group and place in the group, and the message id of
     * each side effect's number.
     */
    record Seeded(Map<String, String> kindById, Map<String, String> groupById, Map<String, Integer> seqById,
            Map<Integer, String> idByEffect) {
    }

    /**
     * Items whose side effect has run and whose record is still in progress, read once the killed process is gone:
     * nothing can complete them any more, so their next delivery takes the claim over at its deadline and runs
     * the side effect again.
     */
    static Set<String> interrupted(Dynalite dynalite, String table, EffectCounter counter, Seeded seeded) {
        Set<String> inProgress = new HashSet<>();
        dynalite.client().scanPaginator(b -> b.tableName(table).consistentRead(true)).items().forEach(item -> {
            if ("IN_PROGRESS".equals(item.get("status").s())) {
                inProgress.add(item.get("id").s());
            }
        });
        Set<String> found = new HashSet<>();
        counter.runs().forEach((effect, runs) -> {
            String id = seeded.idByEffect().get(effect);
            if (id != null && inProgress.contains("http#" + id)) {
                found.add(id);
            }
        });
        return found;
    }

    static Effects effects(Seeded seeded, EffectCounter counter, Set<String> inTheWindow, PrintStream out, Plan plan,
            ClaimWatch claims) {
        Map<Integer, Integer> runs = counter.runs();
        int ran = 0;
        int twice = 0;
        int extra = 0;
        List<String> outside = new ArrayList<>();
        for (var effect : seeded.idByEffect().entrySet()) {
            int count = runs.getOrDefault(effect.getKey(), 0);
            ran += count > 0 ? 1 : 0;
            twice += count > 1 ? 1 : 0;
            extra += Math.max(0, count - 1);
            if (count > 1 && !inTheWindow.contains(effect.getValue())) {
                outside.add(effect.getValue() + " (" + count + " runs)");
            }
        }
        if (plan.sideEffects() == SideEffects.IDEMPOTENT && !outside.isEmpty()) {
            out.printf("[%s] side effects run more than once outside the kill window: %s%n", plan.name(),
                    outside.subList(0, Math.min(20, outside.size())));
        }
        Set<String> breaches = claims == null ? Set.of() : claims.claimedAfterCompletion();
        if (!breaches.isEmpty()) {
            out.printf("[%s] keys claimed again after their completion was stored: %s%n", plan.name(),
                    breaches.stream().limit(20).toList());
        }
        return new Effects(seeded.idByEffect().size(), ran, twice, extra, inTheWindow.size(),
                plan.sideEffects() == SideEffects.IDEMPOTENT ? outside.size() : twice, breaches.size());
    }

    /**
     * Most items succeed; some throw for a while (retryable) or for good; a few hang until cancelled,
     * a few ignore the interrupt, and some carry text SQS refuses once it is in a result: a body that is
     * not JSON and starts with an emoji (the parser's message cuts the pair), an id that is a lone
     * surrogate written as a JSON escape.
     */
    static Seeded seed(ElasticMq sqs, String queue, Plan plan, String counter) {
        var random = new Random(42);
        Map<String, String> kindById = new HashMap<>();
        Map<String, String> groupById = new HashMap<>();
        Map<String, Integer> seqById = new HashMap<>();
        Map<String, Integer> nextSeq = new HashMap<>();
        Map<Integer, String> idByEffect = new HashMap<>();
        List<String[]> batch = new ArrayList<>(); // {kind, body, group, effect number or null}
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
            } else if (roll < 5000 && plan.sideEffects() != SideEffects.NONE) {
                message = new String[] { "effect", LocalPipeline.item("http", "{\"method\":\"POST\",\"url\":\""
                        + counter + "/effects/" + i + "\",\"body\":\"charge " + i + "\"}"), Integer.toString(i) };
            } else if (roll < 5000) {
                message = new String[] { "digest", LocalPipeline.item("digest", "{\"data\":\"item-" + i + "\",\"rounds\":" + (1 + random.nextInt(50)) + "}") };
            } else {
                message = new String[] { "delay", LocalPipeline.item("delay", "{\"millis\":" + random.nextInt(20) + "}") };
            }
            String group = plan.fifo() ? "g" + random.nextInt(plan.groups()) : null;
            batch.add(new String[] { message[0], message[1], group, message.length > 2 ? message[2] : null });
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
                            if (m[3] != null) {
                                idByEffect.put(Integer.parseInt(m[3]), ok.messageId());
                            }
                            if (m[2] != null) {
                                groupById.put(ok.messageId(), m[2]);
                                seqById.put(ok.messageId(), nextSeq.merge(m[2], 1, Integer::sum));
                            }
                        });
                batch.clear();
            }
        }
        return new Seeded(kindById, groupById, seqById, idByEffect);
    }

    static Report report(Plan plan, ElasticMq sqs, String results, String dlq, Seeded seeded, int invocations, int late,
            int kills, String proxy, long elapsedNanos, Effects effects, LocalEventSource.ReceiveTimes receiveTimes)
            throws IOException {
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
                deadByKind, proxy, Duration.ofNanos(elapsedNanos), effects, ReceiveGaps.of(seeded.kindById().entrySet().stream()
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
        if (reports.stream().anyMatch(r -> r.plan().sideEffects() != SideEffects.NONE)) {
            md.append("| run | items with a side effect | of them run | run more than once | runs beyond the first |"
                    + " interrupted by a kill between the side effect and its completion record |"
                    + " run more than once, interrupted otherwise between the two (cut-off, failure) |"
                    + " claimed again after their completion was stored |\n");
            md.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
            for (Report r : reports) {
                if (r.plan().sideEffects() != SideEffects.NONE) {
                    Effects e = r.effects();
                    boolean guarded = r.plan().sideEffects() == SideEffects.IDEMPOTENT;
                    md.append(String.format("| %s | %,d | %,d | %,d | %,d | %s | %s | %s |%n", r.plan().name(),
                            e.items(), e.ran(), e.twice(), e.extraRuns(),
                            guarded ? String.format("%,d", e.interruptedInTheWindow()) : "n/a",
                            guarded ? String.format("%,d", e.twiceOutsideTheWindow()) : "n/a",
                            guarded ? String.format("%,d", e.ranAfterCompletion()) : "n/a"));
                }
            }
            md.append('\n');
        }
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

    /** Waits (at most {@code bound}) until the counter has seen side effects beyond {@code seen}. */
    private static void awaitEffects(EffectCounter counter, int seen, Duration bound) {
        long until = System.nanoTime() + bound.toNanos();
        while (counter.total() <= seen + 20 && System.nanoTime() < until) {
            sleep(2);
        }
    }

    /** Waits (at most 10 s) until the killed process is gone, so that it writes no record any more. */
    private static void awaitDeath(PackagedFunction function) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (function.isAlive() && System.nanoTime() < until) {
            sleep(5);
        }
    }

    /**
     * A proxy between the function and dynalite that watches the idempotency store's writes: a claim (a PutItem of
     * an in-progress record) that succeeds after a completion of the same key succeeded is a run the completed
     * record should have prevented. It adds no call of its own, so it does not widen the window it watches.
     */
    static final class ClaimWatch implements AutoCloseable {
        private final HttpServer server;
        private final java.net.URI target;
        private final java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
                .version(java.net.http.HttpClient.Version.HTTP_1_1).build();
        private final AtomicInteger failures = new AtomicInteger();
        private final Set<String> completed = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private final Set<String> claimedAfter = java.util.concurrent.ConcurrentHashMap.newKeySet();

        private ClaimWatch(HttpServer server, java.net.URI target) {
            this.server = server;
            this.target = target;
        }

        static ClaimWatch start(java.net.URI target) throws IOException {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 512);
            ClaimWatch watch = new ClaimWatch(server, target);
            server.createContext("/", watch::forward);
            server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
            server.start();
            return watch;
        }

        private void forward(com.sun.net.httpserver.HttpExchange exchange) throws IOException {
            try (exchange) {
                byte[] body = exchange.getRequestBody().readAllBytes();
                var request = java.net.http.HttpRequest.newBuilder(target)
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body));
                for (String header : List.of("Content-Type", "X-Amz-Target", "X-Amz-Date", "Authorization")) {
                    String value = exchange.getRequestHeaders().getFirst(header);
                    if (value != null) {
                        request.header(header, value);
                    }
                }
                var answer = http.send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
                String operation = String.valueOf(exchange.getRequestHeaders().getFirst("X-Amz-Target"));
                if (answer.statusCode() == 200 && operation.endsWith(".PutItem")) {
                    JsonNode item = MAPPER.readTree(body).path("Item");
                    String key = item.path("id").path("S").asText();
                    switch (item.path("status").path("S").asText()) {
                        case "COMPLETED" -> completed.add(key);
                        case "IN_PROGRESS" -> {
                            if (completed.contains(key)) {
                                claimedAfter.add(key);
                            }
                        }
                        default -> {
                        }
                    }
                }
                exchange.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.0");
                exchange.sendResponseHeaders(answer.statusCode(), answer.body().length);
                exchange.getResponseBody().write(answer.body());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException | RuntimeException e) {
                if (failures.incrementAndGet() <= 5) {
                    System.err.println("claim watch: a request to dynalite failed: " + e);
                }
                throw e;
            }
        }

        java.net.URI endpoint() {
            return java.net.URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        }

        Set<String> claimedAfterCompletion() {
            return Set.copyOf(claimedAfter);
        }

        @Override
        public void close() {
            server.stop(0);
            http.close();
        }
    }

    /**
     * The side effects' witness outside the function: counts the POSTs to {@code /effects/<n>} per {@code n} and
     * answers each at once with a small receipt.
     */
    static final class EffectCounter implements AutoCloseable {
        private final HttpServer server;
        private final Map<Integer, AtomicInteger> runs = new java.util.concurrent.ConcurrentHashMap<>();
        private final AtomicInteger total = new AtomicInteger();

        private EffectCounter(HttpServer server) {
            this.server = server;
        }

        static EffectCounter start() throws IOException {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 512);
            EffectCounter counter = new EffectCounter(server);
            server.createContext("/effects/", exchange -> {
                try (exchange) {
                    exchange.getRequestBody().readAllBytes();
                    int effect = Integer.parseInt(exchange.getRequestURI().getPath().substring("/effects/".length()));
                    int run = counter.runs.computeIfAbsent(effect, e -> new AtomicInteger()).incrementAndGet();
                    counter.total.incrementAndGet();
                    byte[] body = ("{\"effect\":" + effect + ",\"run\":" + run + "}").getBytes(StandardCharsets.UTF_8);
                    exchange.getResponseHeaders().set("Content-Type", "application/json");
                    exchange.sendResponseHeaders(200, body.length);
                    exchange.getResponseBody().write(body);
                }
            });
            server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
            server.start();
            return counter;
        }

        String base() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        /** The side effects run so far, all counted. */
        int total() {
            return total.get();
        }

        /** The runs so far of each side effect. */
        Map<Integer, Integer> runs() {
            Map<Integer, Integer> copy = new HashMap<>();
            runs.forEach((effect, count) -> copy.put(effect, count.get()));
            return copy;
        }

        @Override
        public void close() {
            server.stop(0);
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
