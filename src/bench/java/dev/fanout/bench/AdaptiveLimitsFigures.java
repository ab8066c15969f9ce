package dev.fanout.bench;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
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
import dev.fanout.work.http.HttpSettings;
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
 * with the load (its peak concurrency and the run's p50 too); and, against a service without a limit, the
 * throughput of the adaptive limits against the fixed bound. Prints figures; asserts nothing.
 *
 * <pre>
 * ./mvnw -B test-compile -DskipTests
 * ./mvnw -B org.codehaus.mojo:exec-maven-plugin:3.6.2:exec -Dexec.executable=java -Dexec.classpathScope=test \
 *     -Dexec.args="-classpath %classpath dev.fanout.bench.AdaptiveLimitsFigures 10 1000 1000 50 20 aimd,vegas"
 * </pre>
 */
public final class AdaptiveLimitsFigures {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private AdaptiveLimitsFigures() {
    }

    record Figures(double goodput, double share429, long ok, long refused, Duration elapsed, int peak, Duration p50,
            int limitLow, int limitHigh) {
    }

    /** One strategy: an engine bound and per-service limits (off for a fixed bound). */
    record Strategy(String name, int bound, LimitSettings limits) {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("gate")) {
            gate();
            return;
        }
        int invocations = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int items = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
        int bound = args.length > 2 ? Integer.parseInt(args[2]) : 1_000;
        int capacity = args.length > 3 ? Integer.parseInt(args[3]) : 50;
        int latencyMs = args.length > 4 ? Integer.parseInt(args[4]) : 20;
        String[] algorithms = (args.length > 5 ? args[5] : "aimd").split(",");
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

        for (Mode mode : List.of(Mode.CAPACITY, Mode.SLOWS_WITH_LOAD)) {
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

        System.out.println("## A service without a limit (throughput, requests/s; the mean of the invocations after the"
                + " first; each strategy measured twice, in turn, for the machine's noise)");
        Behaviour unlimited = new Behaviour(Mode.CAPACITY, Integer.MAX_VALUE, latency);
        List<Strategy> compared = new ArrayList<>();
        compared.add(strategies.get(0));
        compared.addAll(strategies.subList(2, strategies.size()));
        double[][] means = new double[compared.size()][2];
        for (int round = 0; round < 2; round++) {
            for (int s = 0; s < compared.size(); s++) {
                List<Figures> figures = run(compared.get(s), unlimited, invocations, items);
                means[s][round] = meanAfterFirst(figures);
                System.out.printf(Locale.ROOT, "%s, round %d: %s; limit at the end %d%n", compared.get(s).name(),
                        round + 1, figures.stream().map(f -> String.format(Locale.ROOT, "%.0f", f.goodput())).toList(),
                        figures.getLast().limitHigh());
            }
        }
        System.out.println("| strategy | round 1 | round 2 | mean, against the fixed bound |");
        System.out.println("|---|---|---|---|");
        double fixedMean = (means[0][0] + means[0][1]) / 2;
        for (int s = 0; s < compared.size(); s++) {
            double mean = (means[s][0] + means[s][1]) / 2;
            System.out.printf(Locale.ROOT, "| %s | %.0f | %.0f | %.0f, %.1f %% |%n", compared.get(s).name(),
                    means[s][0], means[s][1], mean, 100.0 * mean / fixedMean);
        }
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
        try (var service = new LimitedService(behaviour);
                var http = new HttpCallFunction(FanoutSettings.http("allow", "127.0.0.1/32",
                        "fanout.max-concurrency", Integer.toString(strategy.bound()), "max-attempts", "1"))) {
            ServiceLimits limits = strategy.limits() == null ? ServiceLimits.DISABLED
                    : new ServiceLimits(strategy.limits());
            ItemFunctions functions = TestFunctions.builder(MAPPER).add(http).serviceLimits(limits).build();
            WorkerPool pool = new WorkerPool(Limits.of(strategy.bound()));
            String key = ServiceLimits.serviceOf(URI.create(service.url("/")));
            for (int i = 0; i < invocations; i++) {
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
                figures.add(new Figures(ok / (elapsed.toNanos() / 1e9), refused / (double) Math.max(1, ok + refused),
                        ok, refused, elapsed, service.peak(), result.summary().p50(), report.lowest(),
                        report.highest()));
            }
            if (strategy.limits() != null) {
                limits.of(key); // keeps the tracked service until the end: nothing to report
            }
        }
        return figures;
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
