package dev.fanout.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.fanout.bench.Strategies.Spec;
import dev.fanout.bench.Strategy.Tally;
import dev.fanout.bench.Strategy.Task;
import dev.fanout.work.builtin.BenchDigest;

/**
 * Workload 2, CPU-bound fan-out: N items of the built-in {@code digest} work (SHA-256 applied R times,
 * R calibrated so one item takes the target time). All strategies run in one child JVM, warmed up first,
 * their repetitions interleaved so that drift in the machine spreads over all of them.
 */
public final class CpuWorkload implements Workload {

    /**
     * @param items       N
     * @param targetItem  what one item should take on one core; the rounds are calibrated to it
     * @param concurrency C, for the strategies that take a bound
     * @param warmup      how long the digest code is exercised before calibrating
     */
    public record Settings(int items, Duration targetItem, int concurrency, Duration warmup) {
        public static final Settings FULL = new Settings(2_000, Duration.ofNanos(1_500_000), 1_000,
                Duration.ofSeconds(3));
        public static final Settings SMOKE = new Settings(20, Duration.ofNanos(100_000), 10, Duration.ofMillis(100));
    }

    /** One measured batch. */
    public record Run(String strategy, int repetition, long wallNanos, int succeeded, int failed, int peakConcurrency) {
    }

    /**
     * The calibrated work: rounds per item, and t, the median time of one item run alone over samples
     * taken before each repetition (with the lowest and highest per-repetition median).
     */
    public record Calibration(int rounds, long itemNanos, long itemNanosMin, long itemNanosMax, int samples,
            int cores) {
    }

    private final Settings settings;

    public CpuWorkload(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String id() {
        return "cpu";
    }

    @Override
    public ReportSection run(SuiteContext context) throws Exception {
        Options options = Options.builder()
                .put("items", settings.items())
                .put("targetNanos", settings.targetItem().toNanos())
                .put("concurrency", settings.concurrency())
                .put("warmupMillis", settings.warmup().toMillis())
                .put("repetitions", context.repetitions())
                .build();
        ChildJvm.Output output = context.jvm().run(id(), options, Duration.ofMinutes(15));
        Calibration calibration = output.one("calibration", Calibration.class);
        Map<String, List<Run>> runs = new LinkedHashMap<>();
        for (Run run : output.all("cpu", Run.class)) {
            runs.computeIfAbsent(run.strategy(), k -> new ArrayList<>()).add(run);
            context.log().accept(String.format(Locale.ROOT, "cpu rep %d %-16s %8.3f s, peak %d", run.repetition(),
                    run.strategy(), run.wallNanos() / 1e9, run.peakConcurrency()));
        }
        return render(calibration, runs);
    }

    @Override
    public void child(Options options) throws Exception {
        int items = options.intValue("items");
        long targetNanos = options.longValue("targetNanos");
        int repetitions = options.intValue("repetitions");

        // let the JIT compile the digest before timing it
        long warmUntil = System.nanoTime() + Duration.ofMillis(options.longValue("warmupMillis")).toNanos();
        while (System.nanoTime() - warmUntil < 0) {
            BenchDigest.digest("warm-up", 1_000);
        }
        int samples = items < 100 ? 5 : 20;
        int probed = calibrate(targetNanos);
        // one correction from the median of whole items, which a short probe can misjudge
        int rounds = (int) Math.max(1, Math.round((double) probed * targetNanos / median(itemNanos(probed, samples))));
        // t is sampled before every repetition, so that drift in the machine's speed affects t and the runs alike
        List<Double> itemTimes = new ArrayList<>();
        List<Double> repMedians = new ArrayList<>();

        ActiveCounter counter = new ActiveCounter();
        Task<Integer> work = counter.around(item -> BenchDigest.digest("item-" + item, rounds));
        List<Integer> batch = IoWorkload.range(items);
        Map<Spec, Strategy> strategies = new LinkedHashMap<>();
        try {
            for (Spec spec : Strategies.ALL) {
                Strategy strategy = spec.create(options.intValue("concurrency"));
                strategies.put(spec, strategy);
                strategy.run(IoWorkload.range(Math.max(items / 10, 2 * Strategies.CORES)), work);
            }
            for (int rep = 1; rep <= repetitions; rep++) {
                List<Double> times = itemNanos(rounds, samples);
                itemTimes.addAll(times);
                repMedians.add(median(times));
                for (var entry : strategies.entrySet()) {
                    System.gc();
                    counter.reset();
                    long start = System.nanoTime();
                    Tally tally = entry.getValue().run(batch, work);
                    long wall = System.nanoTime() - start;
                    ResultLine.emit("cpu", new Run(entry.getKey().id(), rep, wall, tally.succeeded(), tally.failed(),
                            counter.peak()));
                }
            }
        } finally {
            strategies.values().forEach(Strategy::close);
        }
        Stats perRep = Stats.of(repMedians);
        ResultLine.emit("calibration", new Calibration(rounds, Math.round(median(itemTimes)), Math.round(perRep.min()),
                Math.round(perRep.max()), itemTimes.size(), Strategies.CORES));
    }

    /** Rounds of SHA-256 that take about {@code targetNanos} on one core. */
    private static int calibrate(long targetNanos) {
        int probeRounds = 1_000;
        int probes = 20;
        long start = System.nanoTime();
        for (int i = 0; i < probes; i++) {
            BenchDigest.digest("calibration-" + i, probeRounds);
        }
        double perRound = (double) (System.nanoTime() - start) / (probes * (long) probeRounds);
        return (int) Math.max(1, Math.round(targetNanos / perRound));
    }

    /** Times of {@code samples} items run alone, one after the other: samples of t in N x t / cores. */
    private static List<Double> itemNanos(int rounds, int samples) {
        List<Double> times = new ArrayList<>(samples);
        for (int i = 0; i < samples; i++) {
            long start = System.nanoTime();
            BenchDigest.digest("item-" + i, rounds);
            times.add((double) (System.nanoTime() - start));
        }
        return times;
    }

    private static double median(List<Double> samples) {
        return Stats.of(samples).median();
    }

    private ReportSection render(Calibration calibration, Map<String, List<Run>> runs) {
        int n = settings.items();
        double itemMillis = calibration.itemNanos() / 1e6;
        double idealSeconds = n * calibration.itemNanos() / 1e9 / calibration.cores();
        Map<String, Stats> walls = new LinkedHashMap<>();
        for (Spec spec : Strategies.ALL) {
            walls.put(spec.id(), Stats.of(runs.get(spec.id()).stream().map(r -> r.wallNanos() / 1e9).toList()));
        }
        Stats fanout = walls.get(Strategies.FANOUT.id());

        List<List<String>> rows = new ArrayList<>();
        int memory = LambdaPricing.memoryMbForCores(calibration.cores());
        for (Spec spec : Strategies.ALL) {
            Stats wall = walls.get(spec.id());
            List<Run> mine = runs.get(spec.id());
            rows.add(List.of(spec.label(), Markdown.range(wall), Markdown.times(wall.median() / fanout.median()),
                    Markdown.percent(idealSeconds / wall.median()),
                    Markdown.integer(mine.stream().mapToInt(Run::peakConcurrency).max().orElse(0)),
                    Markdown.integer(mine.stream().mapToInt(Run::failed).max().orElse(0)),
                    "$" + Markdown.num(LambdaPricing.perMillionItems(wall.median(), n, memory, LambdaPricing.X86_PER_GB_SECOND)),
                    "$" + Markdown.num(LambdaPricing.perMillionItems(wall.median(), n, memory, LambdaPricing.ARM64_PER_GB_SECOND))));
        }
        Spec best = Strategies.ALL.stream().min(java.util.Comparator.comparingDouble(s -> walls.get(s.id()).median()))
                .orElseThrow();
        String key = String.format(Locale.ROOT,
                "CPU-bound: Fanout reached %s of the ideal N x t / cores (%s items of %s ms on %d cores); the "
                        + "fastest strategy was %s at %s; sequential %s Fanout's time.",
                Markdown.percent(idealSeconds / fanout.median()), Markdown.integer(n), Markdown.num(itemMillis),
                calibration.cores(), best.label(), Markdown.percent(idealSeconds / walls.get(best.id()).median()),
                Markdown.times(walls.get("sequential").median() / fanout.median()));

        String md = """
                %s items, each SHA-256 of a short string, then of its own 32-byte result, %s rounds in all (the built-in `digest` item type, without \
                its JSON binding), the rounds calibrated at the start for a target of %s ms per item. Measured \
                t = %s ms, the median of %s \
                items run alone, sampled before each repetition (per-repetition medians %s–%s ms). All strategies \
                run in one child JVM, each warmed up with a tenth of the batch, repetitions interleaved. Concurrency \
                C = %s for the strategies that take a bound. An efficiency above 100 %% means items ran faster in \
                the batch than alone (the machine's speed varies; t is sampled next to the runs to limit that).

                * **Efficiency** = ideal / wall time, ideal = N × t / cores = %s s on %d cores.
                * Cost per million items at %s MB (%d vCPU), one invocation per batch, median wall time.

                %s
                **For a Lambda user.** CPU-bound items scale with cores, not with the concurrency setting: virtual \
                threads run on as many carriers as the JVM sees cores, and a CPU-bound item holds its carrier \
                until it finishes. Lambda gives CPU in proportion to memory (1,769 MB = 1 vCPU), so memory is the \
                lever here: below 1,769 MB every strategy, sequential included, shares less than one core, and \
                above it only parallel strategies use the extra vCPUs. Halving the CPU share should roughly double \
                the wall time of a CPU-bound batch and leave its GB-seconds about the same (not measured here: \
                this machine has %d cores). A concurrency far above the core count buys nothing for CPU work; it \
                does not cost much either, as the peak-concurrency column shows.

                """.formatted(Markdown.integer(n), Markdown.integer(calibration.rounds()),
                Markdown.num(settings.targetItem().toNanos() / 1e6), Markdown.num(itemMillis),
                Markdown.integer(calibration.samples()), Markdown.num(calibration.itemNanosMin() / 1e6),
                Markdown.num(calibration.itemNanosMax() / 1e6), Markdown.integer(settings.concurrency()), Markdown.num(idealSeconds), calibration.cores(),
                Markdown.integer(memory), calibration.cores(),
                Markdown.table(List.of("Strategy", "Wall time, s", "vs Fanout", "Efficiency", "Peak concurrency",
                        "Failed items (max)", "$ per million items, x86", "arm64"), rows),
                calibration.cores());
        return new ReportSection(id(), "2. CPU-bound fan-out", List.of(key), md, List.of());
    }
}
