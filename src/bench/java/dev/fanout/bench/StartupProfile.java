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

import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.RuntimeApiServer;

/**
 * Where one start of the packaged function (this build, no AOT cache) spends its time: a start with
 * {@code -Xlog:class+load} stamped with the JVM's uptime, cut into phases by the first class of each
 * milestone (the Runtime Interface Client, the handler class, Quarkus's application, the warm-up, the
 * first event), with the classes each phase loaded by library; then the function's own log lines. The
 * class log slows the start a little (about 5 %): the phases' shares are what it shows, the first-answer
 * figures come from {@link StartupComparison}.
 *
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat cp.txt) dev.fanout.bench.StartupProfile [sqs|http] [other build's function.zip] [jvm options...]
 * </pre>
 */
public final class StartupProfile {

    /** A phase starts when the first class matching its prefix loads (in the order listed). */
    static final Map<String, String> MILESTONES = new LinkedHashMap<>();

    static {
        MILESTONES.put("com.amazonaws.services.lambda.runtime.api.client.AWSLambda", "JVM start to the runtime client");
        MILESTONES.put("dev.fanout.function.FanoutStreamHandler", "runtime client to the handler class");
        MILESTONES.put("io.quarkus.runtime.generated.Config", "handler class to Quarkus's configuration");
        MILESTONES.put("io.quarkus.arc.impl.ArcContainerImpl", "configuration (and class preloading) to CDI");
        MILESTONES.put("io.quarkus.runtime.StartupEvent", "CDI to the start-up observers (Warmup)");
        MILESTONES.put("io.quarkus.amazon.lambda.runtime.AmazonLambdaRecorder$RequestHandlerDefinition",
                "start-up observers to the Lambda handler's set-up");
        MILESTONES.put("com.amazonaws.services.lambda.runtime.api.client.LambdaRequestHandler", "handler set-up to the first poll");
        MILESTONES.put("com.amazonaws.services.lambda.runtime.api.client.api.LambdaContext", "first event to its answer");
    }

    public static void main(String[] args) throws Exception {
        String entry = args.length > 0 ? args[0] : "sqs";
        // another build's zip (with its own unpacked copy), then JVM options
        boolean otherZip = args.length > 1 && args[1].endsWith(".zip");
        Path zip = otherZip ? Path.of(args[1]) : Path.of("target", "function.zip");
        List<String> jvmOptions = new ArrayList<>(List.of(args).subList(Math.min(args.length, otherZip ? 2 : 1), args.length));
        Path log = Files.createDirectories(Path.of("target", "startup-profile"))
                .resolve(entry + (otherZip ? "-other" : "") + "-classes.txt").toAbsolutePath();
        Files.deleteIfExists(log);
        jvmOptions.add("-Xlog:class+load=info:file=" + log + ":uptimemillis");
        try (ElasticMq sqs = ElasticMq.start(); RuntimeApiServer api = RuntimeApiServer.start()) {
            String results = sqs.createQueue("profile-results");
            // ElasticMQ runs in this JVM: its own first batches are slow, and not the function's time
            for (int i = 0; i < 20; i++) {
                int n = i;
                sqs.client().sendMessageBatch(r -> r.queueUrl(results).entries(e -> e.id("0").messageBody("warm " + n),
                        e -> e.id("1").messageBody("warm")));
            }
            sqs.drain(results);
            long started = System.nanoTime();
            try (PackagedFunction function = PackagedFunction.start(zip, PackagedFunction.HANDLER,
                    entry, api, Map.of("RESULTS_QUEUE_URL", results, "FANOUT_RESULTS_ENDPOINT", sqs.endpoint().toString()),
                    jvmOptions, true)) {
                var result = api.invoke(StartupComparison.event(entry), Duration.ofSeconds(60));
                long first = Duration.ofNanos(System.nanoTime() - started).toMillis();
                System.out.printf(Locale.ROOT, "%s: first answer %d ms after process start (error: %s)%n%n", entry, first,
                        result.error());
                Thread.sleep(200); // the class log is written as classes load; let the last lines reach the file
                phases(Files.readAllLines(log));
                System.out.println();
                function.log().lines().forEach(System.out::println);
            }
        }
    }

    static void phases(List<String> lines) {
        List<String> names = new ArrayList<>(List.of("(before the first milestone)"));
        List<Double> starts = new ArrayList<>(List.of(0.0));
        List<Map<String, Integer>> counts = new ArrayList<>(List.of(new TreeMap<>()));
        var pending = new ArrayList<>(MILESTONES.keySet());
        for (String line : lines) {
            // [123ms] java.lang.Object source: shared objects file
            int close = line.indexOf("ms]");
            int nameStart = close + 4;
            if (close < 0 || nameStart >= line.length()) {
                continue;
            }
            double at = Long.parseLong(line.substring(1, close)) / 1000.0;
            String type = line.substring(nameStart, line.indexOf(' ', nameStart) < 0 ? line.length() : line.indexOf(' ', nameStart));
            if (!pending.isEmpty() && type.startsWith(pending.getFirst())) {
                names.add(MILESTONES.get(pending.removeFirst()));
                starts.add(at);
                counts.add(new TreeMap<>());
            }
            counts.getLast().merge(library(type), 1, Integer::sum);
        }
        System.out.println("| phase | from, ms | takes, ms | classes | by library (most first) |");
        System.out.println("|---|---:|---:|---:|---|");
        double end = lines.isEmpty() ? 0 : starts.getLast();
        for (int i = 0; i < names.size(); i++) {
            double from = starts.get(i);
            double to = i + 1 < starts.size() ? starts.get(i + 1) : Double.NaN;
            Map<String, Integer> c = counts.get(i);
            int total = c.values().stream().mapToInt(Integer::intValue).sum();
            String top = c.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(6)
                    .map(e -> e.getKey() + " " + e.getValue()).reduce((a, b) -> a + ", " + b).orElse("");
            System.out.printf(Locale.ROOT, "| %s | %.0f | %s | %d | %s |%n", names.get(i), from * 1000,
                    Double.isNaN(to) ? "(to the answer)" : String.format(Locale.ROOT, "%.0f", (to - from) * 1000), total, top);
        }
        if (end == 0) {
            System.out.println("(no milestone reached)");
        }
    }

    static String library(String type) {
        for (var group : StartupComparison.GROUPS.entrySet()) {
            if (type.startsWith(group.getKey())) {
                return group.getValue();
            }
        }
        if (type.startsWith("java.") || type.startsWith("jdk.") || type.startsWith("sun.") || type.startsWith("javax.")) {
            return "JDK";
        }
        if (type.startsWith("com.amazonaws.")) {
            return "Lambda runtime/events";
        }
        if (type.startsWith("io.smallrye.") || type.startsWith("org.eclipse.microprofile.")) {
            return "SmallRye";
        }
        if (type.startsWith("org.jboss.")) {
            return "JBoss";
        }
        if (type.startsWith("io.netty.")) {
            return "Netty";
        }
        if (type.startsWith("io.vertx.")) {
            return "Vert.x";
        }
        int dot = type.indexOf('.', type.indexOf('.') + 1);
        return dot > 0 ? type.substring(0, dot) : type;
    }
}
