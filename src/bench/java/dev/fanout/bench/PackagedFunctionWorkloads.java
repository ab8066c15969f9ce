package dev.fanout.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.RuntimeApiServer;

/**
 * What workloads 6 and 7 share: the packaged function (target/function.zip) under AWS's Runtime Interface
 * Client, a Runtime API server of its own, and an ElasticMQ results queue.
 */
final class PackagedFunctionWorkloads {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private PackagedFunctionWorkloads() {
    }

    static void requirePackage() {
        if (!Files.exists(Path.of("target", "function.zip"))) {
            throw new IllegalStateException("target/function.zip is missing: run the suite with " + BenchmarkSuite.COMMAND);
        }
    }

    /** A started SQS entry point with its own Runtime API server. */
    record Started(RuntimeApiServer api, PackagedFunction function, long startNanos) implements AutoCloseable {
        @Override
        public void close() {
            function.close();
            api.close();
        }
    }

    static Started start(ElasticMq sqs, String resultsQueue, Map<String, String> env, List<String> jvmOptions,
            boolean appAsJar) throws Exception {
        var api = RuntimeApiServer.start();
        var all = new java.util.HashMap<String, String>(env);
        all.put("RESULTS_QUEUE_URL", resultsQueue);
        all.put("FANOUT_RESULTS_ENDPOINT", sqs.endpoint().toString());
        long start = System.nanoTime();
        return new Started(api, PackagedFunction.start("sqs", api, all, jvmOptions, appAsJar), start);
    }

    /** The function's summary line of its latest invocation ({@code "event":"fanout.sqs"}). */
    static JsonNode lastSummary(PackagedFunction function) throws Exception {
        List<String> lines = function.log().lines().filter(l -> l.contains("\"event\":\"fanout.sqs\"")).toList();
        if (lines.isEmpty()) {
            throw new IllegalStateException("the function logged no summary:\n" + function.log());
        }
        String line = lines.getLast();
        return MAPPER.readTree(line.substring(line.indexOf('{')));
    }


    static Duration elapsedSince(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }
}
