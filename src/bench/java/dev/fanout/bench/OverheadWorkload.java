package dev.fanout.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import dev.fanout.bench.Strategies.Spec;

/**
 * Workload 3, per-item overhead: no-op items, measured with JMH ({@link OverheadBenchmark}, average time per
 * batch in a forked JVM with the suite's flags). Each figure is the median, min and max of the measurement
 * iterations, divided by the batch size.
 */
public final class OverheadWorkload implements Workload {

    /**
     * @param sizes            batch sizes
     * @param concurrency      C, for the strategies that take a bound
     * @param warmupIterations JMH warm-up iterations per trial
     * @param iterations       JMH measurement iterations per trial: the repetitions of each figure
     * @param iterationMillis  length of one iteration
     * @param forks            JMH forks (0 runs in this JVM: the smoke test only)
     */
    public record Settings(List<Integer> sizes, int concurrency, int warmupIterations, int iterations,
            int iterationMillis, int forks) {
        public static final Settings FULL = new Settings(List.of(100, 1_000, 10_000), 1_000, 3, 5, 500, 1);
        public static final Settings SMOKE = new Settings(List.of(100), 10, 0, 1, 20, 0);
    }

    private final Settings settings;

    public OverheadWorkload(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String id() {
        return "overhead";
    }

    @Override
    public ReportSection run(SuiteContext context) throws Exception {
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(Pattern.quote(OverheadBenchmark.class.getName()) + "\\.batch$")
                .param("strategy", Strategies.ALL.stream().map(Spec::id).toArray(String[]::new))
                .param("size", settings.sizes().stream().map(String::valueOf).toArray(String[]::new))
                .param("concurrency", String.valueOf(settings.concurrency()))
                .warmupIterations(settings.warmupIterations())
                .warmupTime(TimeValue.milliseconds(settings.iterationMillis()))
                .measurementIterations(settings.iterations())
                .measurementTime(TimeValue.milliseconds(settings.iterationMillis()))
                .forks(settings.forks())
                .shouldFailOnError(true)
                .output(context.workDir().resolve("jmh-overhead.log").toString());
        if (settings.forks() > 0) {
            options.jvmArgs(context.jvm().flags().toArray(String[]::new));
        }
        Collection<RunResult> results = new Runner(options.build()).run();

        // strategy -> size -> microseconds per item, one sample per measurement iteration
        Map<String, Map<Integer, Stats>> perItem = new LinkedHashMap<>();
        for (RunResult result : results) {
            String strategy = result.getParams().getParam("strategy");
            int size = Integer.parseInt(result.getParams().getParam("size"));
            List<Double> samples = new ArrayList<>();
            for (BenchmarkResult fork : result.getBenchmarkResults()) {
                for (IterationResult iteration : fork.getIterationResults()) {
                    samples.add(iteration.getPrimaryResult().getScore() / size);
                }
            }
            Stats stats = Stats.of(samples);
            perItem.computeIfAbsent(strategy, k -> new LinkedHashMap<>()).put(size, stats);
            context.log().accept(String.format(Locale.ROOT, "overhead %-16s %6d items: %.4f us/item", strategy, size,
                    stats.median()));
        }
        return render(perItem);
    }

    private ReportSection render(Map<String, Map<Integer, Stats>> perItem) {
        Map<Integer, Stats> fanout = perItem.get(Strategies.FANOUT.id());
        List<String> header = new ArrayList<>(List.of("Strategy"));
        for (int size : settings.sizes()) {
            header.add("µs/item at " + Markdown.integer(size));
            header.add("vs Fanout");
        }
        List<List<String>> rows = new ArrayList<>();
        for (Spec spec : Strategies.ALL) {
            List<String> row = new ArrayList<>(List.of(spec.label()));
            for (int size : settings.sizes()) {
                Stats stats = perItem.get(spec.id()).get(size);
                row.add(Markdown.range(stats));
                row.add(Markdown.times(stats.median() / fanout.get(size).median()));
            }
            rows.add(row);
        }
        int largest = settings.sizes().getLast();
        double fanoutLargest = fanout.get(largest).median();
        String key = String.format(Locale.ROOT,
                "Overhead: Fanout costs %s µs per no-op item at %s items, %s of a 50 ms I/O item.",
                Markdown.num(fanoutLargest), Markdown.integer(largest), Markdown.percent(fanoutLargest / 50_000));
        String md = """
                No-op items (the task returns its input), so the figure is the strategy's own cost per item: \
                scheduling, thread creation, bookkeeping, collecting results. Measured with JMH 1.37 \
                (`OverheadBenchmark`): mode AverageTime per batch, %d warm-up and %d measurement iterations of %s ms, \
                %d fork(s) with the suite's JVM flags; the strategy is built once per trial and reused across \
                batches, as a handler keeps it between invocations. Each cell is the median (min–max) of the \
                measurement iterations, divided by the batch size. C = %s for the strategies that take a bound.

                %s
                **For a Lambda user.** These are the costs of the machinery, not of the work. Sequential code \
                and a plain loop over a pool have almost none; strategies that start a virtual thread per item \
                (Fanout, `runAsync` on virtual threads, Mutiny on a virtual-thread executor) pay for the thread and \
                the hand-offs. Compare the figure with the duration of your own item: Fanout's %s µs per item at \
                %s items is %s of a 50 ms I/O item and %s of a 1.5 ms CPU item. The overhead matters only for \
                batches of trivial items, which need no fan-out at all.

                """.formatted(settings.warmupIterations(), settings.iterations(),
                Markdown.integer(settings.iterationMillis()), settings.forks(), Markdown.integer(settings.concurrency()),
                Markdown.table(header, rows), Markdown.num(fanoutLargest), Markdown.integer(largest),
                Markdown.percent(fanoutLargest / 50_000), Markdown.percent(fanoutLargest / 1_500));
        return new ReportSection(id(), "3. Per-item overhead", List.of(key), md, List.of());
    }
}
