package dev.fanout.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.RuntimeApiServer;
import dev.fanout.testing.SqsEvents;

/**
 * JVM start of two builds of the function in the same run (the machine is shared and loaded: only the
 * ratio between builds measured side by side means something): first answer after process start for
 * the SQS and the HTTP entry point (or the stream ones: {@code kinesis,dynamodb}), without and with a JDK AOT cache, peak RSS, and the classes loaded
 * by the first answer (a separate start with -Xlog:class+load, by library).
 *
 * <pre>
 * java -cp target/test-classes:... dev.fanout.bench.StartupComparison \
 *     &lt;baseline function.zip&gt; &lt;baseline handler&gt; [runs=3] [entry points=sqs,http] [no-aot]
 * </pre>
 *
 * The current build is target/function.zip with {@link PackagedFunction#HANDLER}.
 */
public final class StartupComparison {

    record Build(String name, Path zip, String handler) {
    }

    /** @param invocation the first invocation alone: from the Runtime API's handing it over to its answer */
    record Start(Duration firstAnswer, long peakRssKib, long cpuMillis, long mainThreadCpuMillis, Duration invocation) {
    }

    static final Map<String, String> GROUPS = new LinkedHashMap<>();

    static {
        GROUPS.put("com.fasterxml.jackson.", "Jackson");
        GROUPS.put("io.smallrye.config.", "SmallRye Config");
        GROUPS.put("org.apache.hc.", "HttpClient 5");
        GROUPS.put("software.amazon.awssdk.", "AWS SDK");
        GROUPS.put("org.joda.", "Joda-Time");
        GROUPS.put("io.quarkus.", "Quarkus");
        GROUPS.put("dev.fanout.", "Fanout");
    }

    public static void main(String[] args) throws Exception {
        List<Build> builds = List.of(new Build("baseline", Path.of(args[0]), args[1]),
                new Build("current", Path.of("target", "function.zip"), PackagedFunction.HANDLER));
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        // a narrower run, for more repetitions on a loaded machine: the entry points, and whether to skip the AOT cache
        List<String> entries = args.length > 3 ? List.of(args[3].split(",")) : List.of("sqs", "http");
        boolean withAot = args.length <= 4 || !args[4].equals("no-aot");
        boolean[] aotModes = withAot ? new boolean[] { false, true } : new boolean[] { false };
        Path work = Files.createDirectories(Path.of("target", "startup-comparison"));
        Map<String, List<Start>> starts = new TreeMap<>();
        Map<String, Map<String, Integer>> classes = new TreeMap<>();
        try (ElasticMq sqs = ElasticMq.start()) {
            String results = sqs.createQueue("startup-results");
            for (Build build : builds) {
                for (String entry : entries) {
                    Path cache = work.resolve(build.name() + "-" + entry + ".aot").toAbsolutePath();
                    Files.deleteIfExists(cache);
                    if (withAot) {
                        start(build, entry, sqs, results, List.of("-XX:AOTCacheOutput=" + cache)); // training run
                    }
                    Path log = work.resolve(build.name() + "-" + entry + "-classes.txt").toAbsolutePath();
                    Files.deleteIfExists(log);
                    start(build, entry, sqs, results, List.of("-Xlog:class+load=info:file=" + log));
                    classes.put(build.name() + " " + entry, count(log));
                }
            }
            for (int run = 0; run < runs; run++) {
                for (String entry : entries) {
                    for (boolean aot : aotModes) {
                        // alternate the order, so that neither build always starts on a machine the other just warmed
                        List<Build> order = run % 2 == 0 ? builds : builds.reversed();
                        for (Build build : order) {
                            Path cache = work.resolve(build.name() + "-" + entry + ".aot").toAbsolutePath();
                            List<String> options = aot ? List.of("-XX:AOTMode=on", "-XX:AOTCache=" + cache) : List.of();
                            Start start = start(build, entry, sqs, results, options);
                            String key = build.name() + " " + entry + (aot ? " aot" : "");
                            starts.computeIfAbsent(key, k -> new ArrayList<>()).add(start);
                            System.out.printf(Locale.ROOT, "run %d %-22s first answer %5d ms (the invocation %4d ms), peak"
                                    + " RSS %4d MiB, CPU %5d ms (main thread %4d ms)%n", run + 1, key,
                                    start.firstAnswer().toMillis(), start.invocation().toMillis(),
                                    start.peakRssKib() / 1024, start.cpuMillis(), start.mainThreadCpuMillis());
                        }
                    }
                }
            }
            sqs.drain(results);
        }
        System.out.println();
        System.out.println("| build | entry point | AOT cache | first answer, median of " + runs + " (ms) | the first "
                + "invocation alone, median (ms) | peak RSS, median (MiB) | CPU time by the first answer, median (ms) | the "
                + "main thread's, median (ms) |");
        System.out.println("|---|---|---|---:|---:|---:|---:|---:|");
        starts.forEach((key, list) -> {
            String[] parts = key.split(" ");
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %d | %d | %d | %d | %d |%n", parts[0], parts[1],
                    parts.length > 2 ? "yes" : "no", median(list.stream().map(s -> s.firstAnswer().toMillis()).toList()),
                    median(list.stream().map(s -> s.invocation().toMillis()).toList()),
                    median(list.stream().map(s -> s.peakRssKib() / 1024).toList()),
                    median(list.stream().map(Start::cpuMillis).toList()),
                    median(list.stream().map(Start::mainThreadCpuMillis).toList()));
        });
        // each run starts both builds back to back: the ratio within a run is the figure least moved by load
        System.out.println();
        System.out.println("| entry point | AOT cache | current / baseline, median of the " + runs + " runs' ratios | the ratios |");
        System.out.println("|---|---|---:|---|");
        for (String entry : entries) {
            for (boolean aot : aotModes) {
                String suffix = " " + entry + (aot ? " aot" : "");
                List<Start> base = starts.get("baseline" + suffix);
                List<Start> current = starts.get("current" + suffix);
                List<Double> ratios = new ArrayList<>();
                for (int i = 0; i < runs; i++) {
                    ratios.add((double) current.get(i).firstAnswer().toNanos() / base.get(i).firstAnswer().toNanos());
                }
                List<Double> sorted = ratios.stream().sorted().toList();
                System.out.printf(Locale.ROOT, "| %s | %s | %.2f | %s |%n", entry, aot ? "yes" : "no", sorted.get(runs / 2),
                        ratios.stream().map(r -> String.format(Locale.ROOT, "%.2f", r)).toList());
            }
        }
        System.out.println();
        System.out.println("| build | entry point | classes loaded | " + String.join(" | ", GROUPS.values()) + " |");
        System.out.println("|---|---|---:|" + "---:|".repeat(GROUPS.size()));
        classes.forEach((key, counts) -> {
            String[] parts = key.split(" ");
            StringBuilder row = new StringBuilder("| " + parts[0] + " | " + parts[1] + " | " + counts.get("all") + " |");
            GROUPS.values().forEach(g -> row.append(' ').append(counts.getOrDefault(g, 0)).append(" |"));
            System.out.println(row);
        });
    }

    /**
     * Extra environment for the baseline, from {@code -Dstartup.baseline-env=K=V,...}: the same zip twice with
     * one setting apart (e.g. {@code FANOUT_START_PRIMING=false}) isolates what that setting does.
     */
    static Map<String, String> baselineEnv() {
        Map<String, String> env = new TreeMap<>();
        for (String pair : System.getProperty("startup.baseline-env", "").split(",")) {
            if (pair.contains("=")) {
                env.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
            }
        }
        return env;
    }

    static Start start(Build build, String entry, ElasticMq sqs, String results, List<String> jvmOptions) throws Exception {
        Map<String, String> env = new TreeMap<>(Map.of("RESULTS_QUEUE_URL", results,
                "FANOUT_RESULTS_ENDPOINT", sqs.endpoint().toString()));
        if (entry.equals("dynamodb")) {
            // a built-in whose input the changes do not fit: each is converted, bound and rejected, no user code
            env.put("FANOUT_STREAMS_DYNAMODB_TYPE", "greet");
        }
        if (build.name().equals("baseline")) {
            env.putAll(baselineEnv());
        }
        try (RuntimeApiServer api = RuntimeApiServer.start()) {
            long started = System.nanoTime();
            try (PackagedFunction function = PackagedFunction.start(build.zip(), build.handler(), entry, api, env,
                    jvmOptions, true)) {
                var result = api.invoke(event(entry), Duration.ofSeconds(60));
                Duration first = Duration.ofNanos(System.nanoTime() - started);
                if (result.error()) {
                    throw new IllegalStateException(build.name() + " " + entry + " answered an error: " + result.body()
                            + "\n" + function.log());
                }
                return new Start(first, ProcStatus.peakRssKib(function.pid()), ProcStatus.cpuMillis(function.pid()),
                        ProcStatus.mainThreadCpuMillis(function.pid()), result.elapsed());
            }
        }
    }

    static String event(String entry) throws Exception {
        if (entry.equals("sqs")) {
            return SqsEvents.fixture("sqs-standard.json");
        }
        if (entry.equals("kinesis")) {
            return SqsEvents.fixture("kinesis-stream.json");
        }
        if (entry.equals("dynamodb")) {
            return SqsEvents.fixture("dynamodb-stream.json");
        }
        var mapper = new ObjectMapper();
        ObjectNode event = (ObjectNode) mapper.readTree(SqsEvents.fixture("http-batch.json"));
        ((ObjectNode) event.get("requestContext")).put("timeEpoch", System.currentTimeMillis());
        return event.toString();
    }

    static Map<String, Integer> count(Path log) throws Exception {
        Map<String, Integer> counts = new TreeMap<>();
        for (String line : Files.readAllLines(log)) {
            String[] fields = line.split(" ");
            if (fields.length < 2) {
                continue;
            }
            String type = fields[1];
            counts.merge("all", 1, Integer::sum);
            GROUPS.forEach((prefix, group) -> {
                if (type.startsWith(prefix)) {
                    counts.merge(group, 1, Integer::sum);
                }
            });
        }
        return counts;
    }

    static long median(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
