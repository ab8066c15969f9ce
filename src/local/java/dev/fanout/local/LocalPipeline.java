package dev.fanout.local;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.EmfLog;
import dev.fanout.testing.LocalEventSource;
import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.RuntimeApiServer;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * The main job, locally, with no AWS account and no Docker: the packaged function under AWS's Runtime
 * Interface Client, an SQS work queue with a dead-letter queue and a results queue (embedded ElasticMQ),
 * an emulated event source mapping, and a local HTTP service for the {@code http} items. It seeds a
 * mixed batch, runs it to the end, and checks the promise: every message ends with exactly one outcome,
 * its result on the results queue or the message itself in the dead-letter queue.
 *
 * <pre>./mvnw -Plocal package                       (defaults)
 * ./mvnw -Plocal package -Dlocal.messages=5000  (more)</pre>
 */
public final class LocalPipeline {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * What the run found; {@link #promiseKept()} is the check.
     *
     * @param recordsInvoked records handed to the function, over all invocations (redeliveries too)
     * @param metrics        the function's EMF metrics over all its invocations, as CloudWatch would add them up
     */
    public record Report(int seeded, int invocations, int acknowledgedResults, int distinctResults, int deadLettered,
            int lost, int overlap, int lateAnswers, Map<String, Integer> byStatus, Duration elapsed,
            int recordsInvoked, Map<String, EmfLog.Total> metrics) {

        public boolean promiseKept() {
            return lost == 0 && overlap == 0 && lateAnswers == 0;
        }
    }

    public static void main(String[] args) throws Exception {
        if ("kinesis".equals(System.getProperty("local.source"))) {
            LocalStreamPipeline.main(args);
            return;
        }
        int messages = Integer.getInteger("local.messages", 2_000);
        Report report = run(messages, 100, Duration.ofSeconds(5), System.out);
        System.exit(report.promiseKept() ? 0 : 1);
    }

    public static Report run(int messages, int batchSize, Duration functionTimeout, PrintStream out) throws Exception {
        long started = System.nanoTime();
        try (var sqs = ElasticMq.start(); var target = TargetService.start(); var api = RuntimeApiServer.start()) {
            String dlq = sqs.createQueue("fanout-work-dlq");
            String dlqArn = ElasticMq.attribute(sqs.client(), dlq, QueueAttributeName.QUEUE_ARN);
            String work = sqs.client().createQueue(r -> r.queueName("fanout-work").attributes(Map.of(
                    QueueAttributeName.VISIBILITY_TIMEOUT, "2",
                    QueueAttributeName.REDRIVE_POLICY, "{\"maxReceiveCount\":\"3\",\"deadLetterTargetArn\":\"" + dlqArn + "\"}")))
                    .queueUrl();
            String results = sqs.createQueue("fanout-results");
            Map<String, String> kinds = seed(sqs, work, target.base(), messages);
            out.printf("seeded %d messages on %s: %s%n", messages, work, count(kinds));

            Map<String, String> env = Map.of("RESULTS_QUEUE_URL", results,
                    "FANOUT_RESULTS_ENDPOINT", sqs.endpoint().toString(),
                    "FANOUT_HTTP_ALLOW", "127.0.0.1/32",
                    "FANOUT_CUTOFF_MARGIN", "1500ms",
                    "FANOUT_MAX_CONCURRENCY", "200",
                    // the backoff of handed-back records, scaled to the queue's 2 s visibility timeout
                    "FANOUT_RETRY_BASE_DELAY", "1s", "FANOUT_RETRY_MAX_DELAY", "4s");
            try (var function = PackagedFunction.start("sqs", api, env)) {
                var source = new LocalEventSource(sqs.client(), work, api, batchSize, functionTimeout);
                int invocations = 0;
                int late = 0;
                int recordsInvoked = 0;
                int outstanding = source.outstanding();
                while (outstanding > 0) {
                    var round = source.pollAndInvoke();
                    outstanding = source.outstanding();
                    if (round == null) {
                        continue; // the rest is in flight: reported records come back after the visibility timeout
                    }
                    invocations++;
                    recordsInvoked += round.records();
                    late += round.beforeDeadline() ? 0 : 1;
                    out.printf("invocation %3d: %3d records, %3d handed back%s, answered in %5d ms of %d"
                            + " | %d of %d messages left, %.0f s%n", invocations,
                            round.records(), round.reported(), round.error() ? " (invocation error)" : "",
                            round.elapsed().toMillis(), functionTimeout.toMillis(), outstanding, messages,
                            (System.nanoTime() - started) / 1e9);
                }
                out.println("function log: " + function.logFile().toAbsolutePath());
                var metrics = EmfLog.totals(EmfLog.events(function.log()));
                return report(sqs, results, dlq, kinds, invocations, late, System.nanoTime() - started, out,
                        recordsInvoked, metrics);
            }
        }
    }

    /** A mix of what users send: most items succeed, some fail for a while, some never can. */
    static Map<String, String> seed(ElasticMq sqs, String queue, String service, int n) {
        var random = new Random(42);
        Map<String, String> kindById = new HashMap<>();
        List<String[]> batch = new ArrayList<>(); // {kind, body}
        for (int i = 0; i < n; i++) {
            int roll = random.nextInt(100);
            String[] message;
            if (i < 2) {
                message = new String[] { "hangs", item("delay", "{\"millis\":600000}") }; // times out, then dead-letters
            } else if (roll < 45) {
                message = new String[] { "http", item("http", "{\"url\":\"" + service + "/quotes/" + i + "\"}") };
            } else if (roll < 65) {
                message = new String[] { "digest",
                        item("digest", "{\"data\":\"item-" + i + "\",\"rounds\":" + (1 + random.nextInt(2000)) + "}") };
            } else if (roll < 85) {
                message = new String[] { "delay", item("delay", "{\"millis\":" + random.nextInt(200) + "}") };
            } else if (roll < 93) {
                // fails two times in three: succeeds on a redelivery, or ends in the DLQ
                message = new String[] { "flaky", item("delay", "{\"millis\":5,\"failRate\":0.66}") };
            } else if (roll < 95) {
                message = new String[] { "malformed", "{\"type\": \"digest\", \"payload\": " };
            } else if (roll < 97) {
                message = new String[] { "unknown-type", item("geocode", "{}") };
            } else {
                message = new String[] { "ssrf", item("http", "{\"url\":\"http://169.254.169.254/latest/meta-data/\"}") };
            }
            batch.add(message);
            if (batch.size() == 10 || i == n - 1) {
                List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
                for (int e = 0; e < batch.size(); e++) {
                    entries.add(SendMessageBatchRequestEntry.builder().id(Integer.toString(e)).messageBody(batch.get(e)[1]).build());
                }
                var sent = sqs.client().sendMessageBatch(r -> r.queueUrl(queue).entries(entries));
                for (var ok : sent.successful()) {
                    kindById.put(ok.messageId(), batch.get(Integer.parseInt(ok.id()))[0]);
                }
                batch.clear();
            }
        }
        return kindById;
    }

    static String item(String type, String payload) {
        return "{\"type\":\"" + type + "\",\"payload\":" + payload + "}";
    }

    static Report report(ElasticMq sqs, String results, String dlq, Map<String, String> kinds, int invocations,
            int late, long elapsedNanos, PrintStream out, int recordsInvoked, Map<String, EmfLog.Total> metrics)
            throws Exception {
        List<Message> onResults = sqs.drain(results);
        List<Message> deadLettered = sqs.drain(dlq);
        Map<String, Integer> resultsPerSource = new HashMap<>();
        Map<String, Integer> byStatus = new TreeMap<>();
        Map<String, Map<String, Integer>> statusByKind = new TreeMap<>();
        for (Message m : onResults) {
            JsonNode result = MAPPER.readTree(m.body());
            String source = result.get("sourceMessageId").asText();
            resultsPerSource.merge(source, 1, Integer::sum);
            byStatus.merge(result.get("status").asText(), 1, Integer::sum);
            statusByKind.computeIfAbsent(kinds.getOrDefault(source, "?"), k -> new TreeMap<>())
                    .merge(result.get("status").asText(), 1, Integer::sum);
        }
        int lost = 0;
        int overlap = 0;
        var inDlq = new java.util.HashSet<String>();
        deadLettered.forEach(m -> inDlq.add(m.messageId()));
        for (String id : kinds.keySet()) {
            boolean hasResult = resultsPerSource.containsKey(id);
            boolean dead = inDlq.contains(id);
            lost += !hasResult && !dead ? 1 : 0;
            overlap += hasResult && dead ? 1 : 0;
        }
        Map<String, Integer> deadByKind = new TreeMap<>();
        deadLettered.forEach(m -> deadByKind.merge(kinds.getOrDefault(m.messageId(), "?"), 1, Integer::sum));
        var report = new Report(kinds.size(), invocations, onResults.size(), resultsPerSource.size(), deadLettered.size(),
                lost, overlap, late, byStatus, Duration.ofNanos(elapsedNanos), recordsInvoked, metrics);
        out.println();
        out.printf("results queue: %d results for %d messages %s%n", onResults.size(), resultsPerSource.size(), byStatus);
        statusByKind.forEach((kind, statuses) -> out.printf("  %-13s %s%n", kind, statuses));
        out.printf("dead-letter queue: %d messages %s%n", deadLettered.size(), deadByKind);
        out.printf("invocations: %d, answered after their deadline: %d%n", invocations, late);
        out.println("the function's metrics (its EMF log events, added up as CloudWatch would):");
        metrics.forEach((name, total) -> out.printf("  %-20s %s%n", name, total));
        out.printf("every message has exactly one outcome: %s (lost %d, both a result and dead-lettered %d)%n",
                report.promiseKept() ? "YES" : "NO", lost, overlap);
        out.printf("took %.1f s%n", report.elapsed().toMillis() / 1000.0);
        return report;
    }

    private static Map<String, Integer> count(Map<String, String> kinds) {
        Map<String, Integer> counts = new TreeMap<>();
        kinds.values().forEach(k -> counts.merge(k, 1, Integer::sum));
        return counts;
    }

    /** The service the {@code http} items call: a quote per id, after a short, random wait. */
    static final class TargetService implements AutoCloseable {
        private final HttpServer server;

        private TargetService(HttpServer server) {
            this.server = server;
        }

        static TargetService start() throws IOException {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 512);
            server.createContext("/quotes/", exchange -> {
                try (exchange) {
                    Thread.sleep(10 + ThreadLocalRandom.current().nextInt(40));
                    String id = exchange.getRequestURI().getPath().substring("/quotes/".length());
                    byte[] body = ("{\"id\":\"" + id + "\",\"price\":" + (100 + id.hashCode() % 50) + "}")
                            .getBytes(StandardCharsets.UTF_8);
                    exchange.getResponseHeaders().set("Content-Type", "application/json");
                    exchange.sendResponseHeaders(200, body.length);
                    try (OutputStream out = exchange.getResponseBody()) {
                        out.write(body);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            server.start();
            return new TargetService(server);
        }

        String base() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }
}
