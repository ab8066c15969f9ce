package dev.fanout.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The benchmark suite: runs every workload and writes docs/benchmarks.md and docs/benchmarks.png.
 * <pre>
 * ./mvnw -B -Pbench package                               # the full run, into docs/
 * java -cp ... dev.fanout.bench.BenchmarkSuite [--out DIR] [--smoke] [--only io,cpu] [--repetitions N]
 * </pre>
 */
public final class BenchmarkSuite {

    public static final String COMMAND = "./mvnw -B -Pbench package";

    /** Flags of every measured JVM (child JVMs and JMH forks); see the report's Method section. */
    public static final List<String> CHILD_FLAGS = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx1g");

    /**
     * What to run.
     *
     * @param outDir      where the report and its charts go
     * @param workDir     scratch space (JMH log)
     * @param smoke       tiny sizes, one repetition: proves the code runs, measures nothing
     * @param repetitions repetitions of each figure
     * @param only        ids of the workloads to run; empty for all
     */
    public record Config(Path outDir, Path workDir, boolean smoke, int repetitions, Set<String> only) {

        public static Config full(Path outDir) {
            return new Config(outDir, Path.of("target", "bench"), false, 5, Set.of());
        }

        public static Config smoke(Path outDir) {
            return new Config(outDir, outDir.resolve("work"), true, 1, Set.of());
        }
    }

    /** The report and the sections it was made of. */
    public record Result(Path report, List<ReportSection> sections) {
    }

    private BenchmarkSuite() {
    }

    /** The workloads in report order. Workloads 6 and 7 need the packaged function (target/function.zip). */
    static List<Workload> workloads(boolean smoke) {
        return List.of(
                new IoWorkload(smoke ? IoWorkload.Settings.SMOKE : IoWorkload.Settings.FULL),
                new CpuWorkload(smoke ? CpuWorkload.Settings.SMOKE : CpuWorkload.Settings.FULL),
                new OverheadWorkload(smoke ? OverheadWorkload.Settings.SMOKE : OverheadWorkload.Settings.FULL),
                new DeadlineWorkload(smoke ? DeadlineWorkload.Settings.SMOKE : DeadlineWorkload.Settings.FULL),
                new FanInWorkload(smoke ? FanInWorkload.Settings.SMOKE : FanInWorkload.Settings.FULL),
                new ColdStartWorkload(smoke ? ColdStartWorkload.Settings.SMOKE : ColdStartWorkload.Settings.FULL),
                new SqsBatchWorkload(smoke ? SqsBatchWorkload.Settings.SMOKE : SqsBatchWorkload.Settings.FULL));
    }

    /** The workload with {@code id}, for a child JVM (its settings come as options from the suite). */
    static Workload workload(String id) {
        return workloads(false).stream().filter(w -> w.id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown workload '" + id + "'"));
    }

    public static Result run(Config config, Consumer<String> log) throws Exception {
        Instant start = Instant.now();
        CpuAccount cpuAtStart = CpuAccount.now();
        String loadAtStart = CpuAccount.loadAverage();
        log.accept("load average at start: " + loadAtStart);
        Files.createDirectories(config.workDir());
        var context = new SuiteContext(config.smoke(), config.repetitions(), new ChildJvm(CHILD_FLAGS, log),
                config.workDir(), log);
        List<ReportSection> sections = new ArrayList<>();
        for (Workload workload : workloads(config.smoke())) {
            if (config.only().isEmpty() || config.only().contains(workload.id())) {
                log.accept("== workload " + workload.id());
                sections.add(workload.run(context));
            }
        }
        double others = CpuAccount.now().othersShareSince(cpuAtStart);
        log.accept(String.format(java.util.Locale.ROOT, "other processes used %.1f %% of the CPU during the run", others * 100));
        var header = new Report.Header(COMMAND, start, Duration.between(start, Instant.now()), config.repetitions(),
                MachineInfo.probe(), CHILD_FLAGS, loadAtStart, others, config.smoke());
        return new Result(Report.write(config.outDir(), header, sections), sections);
    }

    public static void main(String[] args) throws Exception {
        Config config = Config.full(Path.of("docs"));
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> config = new Config(Path.of(args[++i]), config.workDir(), config.smoke(),
                        config.repetitions(), config.only());
                case "--smoke" -> config = new Config(config.outDir(), config.workDir(), true, 1, config.only());
                case "--repetitions" -> config = new Config(config.outDir(), config.workDir(), config.smoke(),
                        Integer.parseInt(args[++i]), config.only());
                case "--only" -> config = new Config(config.outDir(), config.workDir(), config.smoke(),
                        config.repetitions(), Set.copyOf(Arrays.asList(args[++i].split(","))));
                default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
            }
        }
        Result result = run(config, System.out::println);
        System.out.println("Wrote " + result.report().toAbsolutePath());
        System.exit(0);
    }
}
