package dev.fanout.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import dev.fanout.testing.FanoutSettings;
import dev.fanout.engine.Batch;
import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.testing.LimitedService;
import dev.fanout.testing.LimitedService.Behaviour;
import dev.fanout.testing.LimitedService.Mode;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.WorkItem;
import dev.fanout.work.http.HttpCallFunction;
import dev.fanout.work.limits.LimitAlgorithm;
import dev.fanout.work.limits.LimitSettings;
import dev.fanout.work.limits.ServiceLimits;

/**
 * Figures of the per-service limits (docs/adaptive-limits.md, docs/benchmarks.md): a local service
 * ({@link LimitedService}) with a capacity of {@code capacity} concurrent requests, {@code invocations} consecutive
 * invocations of {@code items} {@code http} items at an engine bound of {@code bound}, side by side for a fixed
 * bound of {@code bound}, a fixed bound of {@code capacity} (the oracle) and the adaptive limits (each algorithm
 * named). Per invocation: goodput (requests answered 200 per second of the run) and the share of 429s among the
 * service's answers, for the service that answers 429 beyond its capacity, then for the one whose latency grows
 * with the load (its peak concurrency and the run's p50 too); and, against a service without a limit (the same
 * latency, never a 429), the throughput of each adaptive algorithm against the fixed bound, invocation by invocation,
 * the two taking turns, in {@code rounds} rounds of new services and limits after a warm-up of the JIT (the ratio per
 * invocation, the limit in force, the permits waited for, and the ratio of the whole run's times). Prints figures;
 * asserts nothing.
 * <p>
 * Arguments: {@code [section] invocations items bound capacity latencyMs algorithms [rounds]}, where the optional
 * section is {@code capacity}, {@code slows} or {@code unlimited} (all three without it); or {@code gate} alone.
 *
 * <pre>
 * ./mvnw -B test-compile -DskipTests
 * ./mvnw -B org.codehaus.mojo:exec-maven-plugin:3.6.2:exec -Dexec.executable=java -Dexec.classpathScope=test \
 *     -Dexec.args="-classpath %classpath dev.fanout.bench.AdaptiveLimitsFigures 10 1000 1000 50 20 aimd,vegas 5"
 * </pre>
 */
public final class AdaptiveLimitsFigures {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private AdaptiveLimitsFigures() {
    }

    record Figures(double goodput, double share429, long ok, long refused, Duration elapsed, int peak, Duration p50,
            int limitLow, int limitHigh, long waited, int notSucceeded, int pooled) {
    }

    /** One strategy: an engine bound and per-service limits (off for a fixed bound). */
    record Strategy(String name, int bound, LimitSettings limits) {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("gate")) {
            gate();
            return;
        }
        // a section alone: capacity (429 beyond it), slows (latency grows with the load), unlimited; all by default
        String only = args.length > 0 && args[0].matches("[a-z]+") ? args[0] : "all";
        if (!only.equals("all")) {
            args = Arrays.copyOfRange(args, 1, args.length);
        }
        int invocations = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int items = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
        int bound = args.length > 2 ? Integer.parseInt(args[2]) : 1_000;
        int capacity = args.length > 3 ? Integer.parseInt(args[3]) : 50;
        int latencyMs = args.length > 4 ? Integer.parseInt(args[4]) : 20;
        String[] algorithms = (args.length > 5 ? args[5] : "aimd").split(",");
        int rounds = args.length > 6 ? Integer.parseInt(args[6]) : 3;
        Duration latency = Duration.ofMillis(latencyMs);

        List<Strategy> strategies = new ArrayList<>();
        strategies.add(new Strategy("fixed " + bound, bound, null));
        strategies.add(new Strategy("fixed " + capacity + " (oracle)", capacity, null));
        for (String algorithm : algorithms) {
            // the defaults of fanout.adaptive.*: initial 20, min 2, max 1000, bounded by the engine's bound
            strategies.add(new Strategy("adaptive " + algorithm, bound, new LimitSettings(true,
                    LimitAlgorithm.of(algorithm), 20, 2, 1000, 256).boundedBy(bound)));
        }
        System.out.printf(Locale.ROOT, "%d invocations of %d http items, engine bound %d, service capacity %d, "
                + "latency %d ms; %d cores%n%n", invocations, items, bound, capacity, latencyMs,
                Runtime.getRuntime().availableProcessors());

        List<Mode> modes = switch (only) {
            case "all" -> List.of(Mode.CAPACITY, Mode.SLOWS_WITH_LOAD);
            case "capacity" -> List.of(Mode.CAPACITY);
            case "slows" -> List.of(Mode.SLOWS_WITH_LOAD);
            case "unlimited" -> List.of();
            default -> throw new IllegalArgumentException("unknown section " + only
                    + ": capacity, slows, unlimited or gate");
        };
        for (Mode mode : modes) {
            System.out.println(mode == Mode.CAPACITY
                    ? "## A service that answers 429 beyond its capacity"
                    : "## A service whose latency grows with the load beyond its capacity");
            List<List<Figures>> all = new ArrayList<>();
            for (Strategy strategy : strategies) {
                all.add(run(strategy, new Behaviour(mode, capacity, latency), invocations, items));
            }
            print(strategies, all, invocations, mode == Mode.SLOWS_WITH_LOAD);
            converged(strategies, all, invocations);
            System.out.println();
        }

        if (only.equals("all") || only.equals("unlimited")) {
            unlimited(strategies, invocations, items, latency, rounds);
        }
    }

    /**
     * A service without a limit (every request answered 200 after the latency, never a 429): the fixed bound against
     * each adaptive strategy, taking turns invocation by invocation (each with its own service and its own limits,
     * kept across its invocations; who goes first alternates), so that the machine's drift falls on both alike.
     * Per invocation: each one's throughput, the ratio adaptive / fixed, the adaptive limit in force (lowest-highest),
     * the permits waited for and the most requests in the service at once.
     */
    static void unlimited(List<Strategy> strategies, int invocations, int items, Duration latency, int rounds)
            throws Exception {
        System.out.println("## A service without a limit (latency " + latency.toMillis() + " ms, never a 429):"
                + " throughput per invocation, the fixed bound and adaptive taking turns; " + rounds + " rounds,"
                + " each with new services and limits, after a warm-up of the JIT");
        Behaviour unlimited = new Behaviour(Mode.CAPACITY, Integer.MAX_VALUE, latency);
        Strategy fixed = strategies.get(0);
        for (Strategy adaptive : strategies.subList(2, strategies.size())) {
            for (Strategy warm : List.of(fixed, adaptive)) { // compiled code for both, on services of their own
                try (var runner = new Runner(warm, unlimited, items)) {
                    for (int i = 0; i < 5; i++) {
                        runner.invoke();
                    }
                }
            }
            double[][] ratio = new double[rounds][invocations];
            List<Double> wholeRuns = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                List<Figures> f = new ArrayList<>();
                List<Figures> a = new ArrayList<>();
                try (var fixedRunner = new Runner(fixed, unlimited, items);
                        var adaptiveRunner = new Runner(adaptive, unlimited, items)) {
                    for (int i = 0; i < invocations; i++) {
                        if ((i + round) % 2 == 0) {
                            f.add(fixedRunner.invoke());
                            a.add(adaptiveRunner.invoke());
                        } else {
                            a.add(adaptiveRunner.invoke());
                            f.add(fixedRunner.invoke());
                        }
                    }
                }
                System.out.println("round " + (round + 1) + ":");
                System.out.println("| invocation | " + fixed.name() + ": requests/s, peak at service, connections"
                        + " pooled after | " + adaptive.name() + ": the same | adaptive / fixed | limit (low-high) |"
                        + " permits waited for |");
                System.out.println("|---|---|---|---|---|---|");
                for (int i = 0; i < invocations; i++) {
                    ratio[round][i] = a.get(i).goodput() / f.get(i).goodput();
                    System.out.printf(Locale.ROOT, "| %d | %.0f, %d, %d | %.0f, %d, %d | %.2f | %d-%d | %d |%s%n",
                            i + 1, f.get(i).goodput(), f.get(i).peak(), f.get(i).pooled(), a.get(i).goodput(),
                            a.get(i).peak(), a.get(i).pooled(), ratio[round][i],
                            a.get(i).limitLow(), a.get(i).limitHigh(), a.get(i).waited(),
                            f.get(i).notSucceeded() + a.get(i).notSucceeded() == 0 ? ""
                                    : " not succeeded: fixed " + f.get(i).notSucceeded() + ", adaptive "
                                            + a.get(i).notSucceeded());
                }
                // the throughput of the whole run: the same items, in the sum of the invocations' times
                double whole = f.stream().mapToLong(x -> x.elapsed().toNanos()).sum()
                        / (double) a.stream().mapToLong(x -> x.elapsed().toNanos()).sum();
                wholeRuns.add(whole);
                System.out.printf(Locale.ROOT, "round %d: throughput %s / %s, invocation 1: %.2f; invocations 2-%d"
                        + " (mean throughputs): %.2f; the %d invocations together (time fixed / time adaptive): %.2f%n",
                        round + 1, adaptive.name(), fixed.name(), ratio[round][0], invocations,
                        meanAfterFirst(a) / meanAfterFirst(f), invocations, whole);
            }
            StringBuilder medians = new StringBuilder();
            List<Double> all = new ArrayList<>();
            for (int i = 0; i < invocations; i++) {
                List<Double> per = new ArrayList<>();
                for (int round = 0; round < rounds; round++) {
                    per.add(ratio[round][i]);
                    if (i > 0) {
                        all.add(ratio[round][i]);
                    }
                }
                medians.append(String.format(Locale.ROOT, " %.2f", median(per)));
            }
            all.sort(null);
            wholeRuns.sort(null);
            System.out.printf(Locale.ROOT, "%s / %s, the %d invocations together, per round: median %.2f, range"
                    + " %.2f-%.2f%n", adaptive.name(), fixed.name(), invocations, median(wholeRuns),
                    wholeRuns.getFirst(), wholeRuns.getLast());
            System.out.printf(Locale.ROOT, "%s / %s, median ratio per invocation over the rounds:%s; invocations 2-%d"
                    + " of every round: median %.2f, mean %.2f, range %.2f-%.2f%n", adaptive.name(), fixed.name(),
                    medians, invocations, median(all), all.stream().mapToDouble(Double::doubleValue).average()
                            .orElse(0), all.isEmpty() ? 0 : all.getFirst(), all.isEmpty() ? 0 : all.getLast());
        }
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n == 0 ? 0 : n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /**
     * The gate's own cost on the path of a service below its limit (the case of a service without a limit): a
     * permit taken and reported, on one thread and on 64 virtual threads at once, against a fixed bound's nothing.
     */
    static void gate() throws Exception {
        var limits = new ServiceLimits(new LimitSettings(true, LimitAlgorithm.AIMD, 1000, 2, 1000, 256));
        var slot = dev.fanout.engine.Slot.HELD;
        Deadline far = Deadline.after(Duration.ofMinutes(10));
        int n = 2_000_000;
        for (int round = 0; round < 3; round++) {
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                limits.acquire("http://127.0.0.1:8080", slot, far, true).success();
            }
            long oneThread = (System.nanoTime() - start) / n;
            int threads = 64;
            int each = n / threads;
            start = System.nanoTime();
            List<Thread> started = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                started.add(Thread.ofVirtual().start(() -> {
                    try {
                        for (int i = 0; i < each; i++) {
                            limits.acquire("http://127.0.0.1:8080", slot, far, true).success();
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            for (Thread t : started) {
                t.join();
            }
            long contended = (System.nanoTime() - start) / ((long) each * threads);
            System.out.printf(Locale.ROOT, "round %d: a permit taken and reported: %d ns on one thread, %d ns of"
                    + " wall time per permit on %d virtual threads%n", round + 1, oneThread, contended, threads);
        }
    }

    static double meanAfterFirst(List<Figures> figures) {
        return figures.stream().skip(1).mapToDouble(Figures::goodput).average().orElse(0);
    }

    static List<Figures> run(Strategy strategy, Behaviour behaviour, int invocations, int items) throws Exception {
        List<Figures> figures = new ArrayList<>();
        try (var runner = new Runner(strategy, behaviour, items)) {
            for (int i = 0; i < invocations; i++) {
                figures.add(runner.invoke());
            }
        }
        return figures;
    }

    /**
     * One strategy against a service of its own, one invocation at a time: what its limits learned is kept from
     * one invocation to the next, as in a warm execution environment, so that two strategies can take turns.
     */
    static final class Runner implements AutoCloseable {
        private final Strategy strategy;
        private final int items;
        private final LimitedService service;
        private final HttpCallFunction http;
        private final ServiceLimits limits;
        private final ItemFunctions functions;
        private final WorkerPool pool;

        Runner(Strategy strategy, Behaviour behaviour, int items) throws Exception {
            this.strategy = strategy;
            this.items = items;
            this.service = new LimitedService(behaviour);
            this.http = new HttpCallFunction(FanoutSettings.http("allow", "127.0.0.1/32", "fanout.max-concurrency",
                    Integer.toString(strategy.bound()), "max-attempts", "1"));
            this.limits = strategy.limits() == null ? ServiceLimits.DISABLED : new ServiceLimits(strategy.limits());
            this.functions = TestFunctions.builder(MAPPER).add(http).serviceLimits(limits).build();
            this.pool = new WorkerPool(Limits.of(strategy.bound()));
        }

        Figures invoke() {
            service.resetCounts();
            List<ParsedItem> batch = new ArrayList<>(items);
            for (int n = 0; n < items; n++) {
                var payload = JsonNodeFactory.instance.objectNode().put("url", service.url("/i" + n))
                        .put("timeoutMillis", 20_000);
                batch.add(new ParsedItem.Valid(new WorkItem("i" + n, HttpCallFunction.TYPE, Optional.empty(),
                        payload)));
            }
            long start = System.nanoTime();
            BatchResult<JsonNode> result = pool.run(Batch.of(batch), functions.dispatcher(),
                    Deadline.after(Duration.ofSeconds(60)));
            Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
            long ok = service.ok();
            long refused = service.refused();
            var report = limits.report();
            return new Figures(ok / (elapsed.toNanos() / 1e9), refused / (double) Math.max(1, ok + refused), ok,
                    refused, elapsed, service.peak(), result.summary().p50(), report.lowest(), report.highest(),
                    report.waited(), items - result.summary().succeeded(), http.pooledConnections());
        }

        @Override
        public void close() throws Exception {
            try (service; http) {
                // both closed
            }
        }
    }

    static void print(List<Strategy> strategies, List<List<Figures>> all, int invocations, boolean latency) {
        StringBuilder head = new StringBuilder("| invocation |");
        StringBuilder rule = new StringBuilder("|---|");
        for (Strategy s : strategies) {
            head.append(" ").append(s.name()).append(latency ? ": goodput/s, peak at service, p50 ms |"
                    : ": goodput/s, 429 share |");
            rule.append("---|");
            if (s.limits() != null) {
                head.append(" limit (low-high) |");
                rule.append("---|");
            }
        }
        System.out.println(head);
        System.out.println(rule);
        for (int i = 0; i < invocations; i++) {
            StringBuilder row = new StringBuilder("| " + (i + 1) + " |");
            for (int s = 0; s < strategies.size(); s++) {
                Figures f = all.get(s).get(i);
                row.append(latency
                        ? String.format(Locale.ROOT, " %.0f, %d, %d |", f.goodput(), f.peak(), f.p50().toMillis())
                        : String.format(Locale.ROOT, " %.0f, %.1f %% |", f.goodput(), 100 * f.share429()));
                if (strategies.get(s).limits() != null) {
                    row.append(String.format(Locale.ROOT, " %d-%d |", f.limitLow(), f.limitHigh()));
                }
            }
            System.out.println(row);
        }
    }

    /** For each adaptive strategy: the first invocation within 20 % of the oracle's goodput, and after it. */
    static void converged(List<Strategy> strategies, List<List<Figures>> all, int invocations) {
        List<Figures> oracle = all.get(1);
        for (int s = 2; s < strategies.size(); s++) {
            List<Figures> adaptive = all.get(s);
            int first = -1;
            for (int i = 0; i < invocations; i++) {
                if (adaptive.get(i).goodput() >= 0.8 * oracle.get(i).goodput()) {
                    first = i + 1;
                    break;
                }
            }
            double ratio = 0;
            double share = 0;
            int n = 0;
            for (int i = Math.max(0, first - 1); first > 0 && i < invocations; i++, n++) {
                ratio += adaptive.get(i).goodput() / oracle.get(i).goodput();
                share += adaptive.get(i).share429();
            }
            System.out.printf(Locale.ROOT, "%s: first within 20 %% of the oracle's goodput in invocation %s;"
                    + " from then on, mean goodput %.2f x the oracle's, mean 429 share %.1f %%%n",
                    strategies.get(s).name(), first < 0 ? "none" : Integer.toString(first),
                    n == 0 ? 0 : ratio / n, n == 0 ? 0 : 100 * share / n);
        }
    }
}
