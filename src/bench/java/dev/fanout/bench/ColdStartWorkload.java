package dev.fanout.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.RuntimeApiServer;
import dev.fanout.testing.SqsEvents;

/**
 * Workload 6, cold start on the JVM: from starting the packaged function's process (AWS's Runtime
 * Interface Client, Lambda's JVM flags) to the first invocation answered, with and without a JDK 25 AOT
 * cache (JEP 483/514: classes loaded and linked ahead of time, recorded by a training run).
 */
public final class ColdStartWorkload implements Workload {

    /** @param runs measured starts per variant; @param trainingInvocations invocations of the training run */
    public record Settings(int runs, int trainingInvocations) {
        public static final Settings FULL = new Settings(5, 5);
        public static final Settings SMOKE = new Settings(1, 1);
    }

    record Start(boolean aotCache, Duration firstAnswer, long peakRssKib) {
    }

    private final Settings settings;

    public ColdStartWorkload(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String id() {
        return "coldstart";
    }

    @Override
    public ReportSection run(SuiteContext context) throws Exception {
        PackagedFunctionWorkloads.requirePackage();
        Path cache = context.workDir().toAbsolutePath().resolve("fanout.aot");
        Files.deleteIfExists(cache);
        String event = SqsEvents.fixture("sqs-standard.json");
        List<Start> starts = new ArrayList<>();
        try (ElasticMq sqs = ElasticMq.start()) {
            String results = sqs.createQueue("coldstart-results");
            // training run: the JVM records the classes it loads and writes the cache when it exits
            try (var training = PackagedFunctionWorkloads.start(sqs, results, Map.of(),
                    List.of("-XX:AOTCacheOutput=" + cache), true)) {
                for (int i = 0; i < settings.trainingInvocations(); i++) {
                    answer(training.api(), event);
                }
            }
            if (!Files.exists(cache)) {
                throw new IllegalStateException("the training run wrote no AOT cache at " + cache);
            }
            context.log().accept(String.format(Locale.ROOT, "coldstart AOT cache %s: %.1f MiB", cache,
                    Files.size(cache) / 1048576.0));
            for (int run = 0; run < settings.runs(); run++) {
                for (boolean aot : new boolean[] { false, true }) {
                    // AOTMode=on: the JVM refuses to start rather than silently run without a cache it cannot use
                    List<String> options = aot ? List.of("-XX:AOTMode=on", "-XX:AOTCache=" + cache) : List.of();
                    try (var started = PackagedFunctionWorkloads.start(sqs, results, Map.of(), options, true)) {
                        answer(started.api(), event);
                        Duration first = PackagedFunctionWorkloads.elapsedSince(started.startNanos());
                        long rss = ProcStatus.peakRssKib(started.function().pid());
                        starts.add(new Start(aot, first, rss));
                        context.log().accept(String.format(Locale.ROOT, "coldstart run %d aot=%s first answer %d ms, peak RSS %d MiB",
                                run + 1, aot, first.toMillis(), rss / 1024));
                    }
                }
            }
            sqs.drain(results);
            return render(starts, Files.size(cache));
        }
    }

    private static void answer(RuntimeApiServer api, String event) throws Exception {
        var result = api.invoke(event, Duration.ofSeconds(30));
        if (result.error()) {
            throw new IllegalStateException("the function failed: " + result.body());
        }
    }

    private ReportSection render(List<Start> starts, long cacheBytes) {
        Stats plain = Stats.of(starts.stream().filter(s -> !s.aotCache()).map(s -> s.firstAnswer().toMillis()).toList());
        Stats aot = Stats.of(starts.stream().filter(Start::aotCache).map(s -> s.firstAnswer().toMillis()).toList());
        Stats plainRss = Stats.of(starts.stream().filter(s -> !s.aotCache()).map(s -> s.peakRssKib() / 1024.0).toList());
        Stats aotRss = Stats.of(starts.stream().filter(Start::aotCache).map(s -> s.peakRssKib() / 1024.0).toList());
        List<List<String>> rows = List.of(
                List.of("JVM, no AOT cache", Markdown.range(plain), "×1", Markdown.range(plainRss)),
                List.of("JVM with the AOT cache", Markdown.range(aot), Markdown.times(aot.median() / plain.median()),
                        Markdown.range(aotRss)));
        String key = String.format(Locale.ROOT,
                "Cold start (JVM, packaged function through the Runtime Interface Client): first invocation answered "
                        + "%s ms after the process started; %s ms with a JDK 25 AOT cache (×%s); peak RSS %s MiB.",
                Markdown.num(plain.median()), Markdown.num(aot.median()), Markdown.num(aot.median() / plain.median()),
                Markdown.num(plainRss.median()));
        String md = """
                The packaged function (`target/function.zip` unpacked as Lambda's task root, its `lib/` on the class \
                path; the task root's own classes as one jar, since an AOT cache accepts only jars on the class \
                path, for both variants alike) is started under AWS's Runtime Interface Client with the flags of Lambda's Java runtime \
                (`-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto`, `-Xmx1024m`), `QUARKUS_LAMBDA_HANDLER=sqs`, \
                a Runtime API server of its own and an ElasticMQ results queue. The clock runs from starting the \
                process to the Runtime API server receiving the answer to the first invocation (the sample event \
                `events/sqs-standard.json`, seven records), so it holds the JVM's start, Quarkus's start, the \
                warm-up of the SQS client (`Warmup`), the first poll and the first batch. Peak RSS is the \
                process's VmHWM after that answer. %d starts per variant, alternating.

                The AOT cache (%s MiB) comes from a training run of the same command with \
                `-XX:AOTCacheOutput=fanout.aot` and %d invocations; the measured starts add \
                `-XX:AOTMode=on -XX:AOTCache=fanout.aot` (on: the JVM would refuse to start with a cache it cannot use). Quarkus can build such a cache for its own launcher \
                (`quarkus.package.jar.aot.enabled`); on Lambda, whose Java runtime puts its own client on the \
                class path, the cache has to be trained with Lambda's class path (for example in a container \
                image with the same layout, the application classes in a jar rather than in `/var/task` itself) \
                and shipped in the function, with \
                `JAVA_TOOL_OPTIONS=-XX:AOTCache=/var/task/fanout.aot`. That was not measured here; SnapStart and \
                the native build (`-Dnative`) are the other ways to cut this start.

                %s

                On Lambda the init phase has its own time limit, apart from the function's timeout, so a cold \
                start delays the first batch rather than eating its deadline: the deadline Fanout reads from the \
                invocation starts after init, which is why `Warmup` builds the SQS client there.
                """.formatted(settings.runs(), Markdown.num(cacheBytes / 1048576.0), settings.trainingInvocations(),
                Markdown.table(List.of("Start", "First answer, ms", "vs no cache", "Peak RSS, MiB"), rows));
        return new ReportSection(id(), "6. Cold start on the JVM", List.of(key), md, List.of());
    }
}
