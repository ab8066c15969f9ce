package dev.fanout.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * An HTTP proxy in front of an SQS server (ElasticMQ) that injects the results queue's faults into
 * SendMessageBatch calls of another process (the packaged function): throttles and 5xx answers before the
 * server sees the call, entries answered as Failed in an HTTP 200 (held back from the server), slow
 * calls, and lost answers (the server stored the entries; the caller's connection is dropped). Other
 * calls pass through untouched. The AWS JSON protocol is plain JSON over HTTP, so faults are written as
 * SQS writes them.
 */
public final class FaultProxy implements AutoCloseable {

    /** Chances in percent per SendMessageBatch call (or per entry, for entry failures); delay bound in ms. */
    public record Faults(int throttlePercent, int serverErrorPercent, int entryFailurePercent, int lostAnswerPercent,
            int slowPercent, int maxDelayMillis) {
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "content-length", "host", "transfer-encoding",
            "expect", "upgrade", "keep-alive");

    private final HttpServer server;
    private final URI target;
    private final Faults faults;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    public final AtomicInteger calls = new AtomicInteger();
    /** Calls that carried an entry an earlier call carried too (same id and body): the retries the proxy saw. */
    public final AtomicInteger resentCalls = new AtomicInteger();
    private final Set<String> seenEntries = ConcurrentHashMap.newKeySet();
    public final AtomicInteger throttled = new AtomicInteger();
    public final AtomicInteger serverErrors = new AtomicInteger();
    public final AtomicInteger failedEntries = new AtomicInteger();
    public final AtomicInteger lostAnswers = new AtomicInteger();
    public final AtomicInteger slowCalls = new AtomicInteger();
    /** Entries passed on whose MessageDeduplicationId an entry passed on earlier had: results sent again. */
    public final AtomicInteger repeatedDeduplicationIds = new AtomicInteger();
    private final Set<String> forwardedDeduplicationIds = ConcurrentHashMap.newKeySet();

    private FaultProxy(HttpServer server, URI target, Faults faults) {
        this.server = server;
        this.target = target;
        this.faults = faults;
    }

    public static FaultProxy start(URI target, Faults faults) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 256);
        var proxy = new FaultProxy(server, target, faults);
        server.createContext("/", proxy::handle);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        return proxy;
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** The figures, for a report. */
    public String describe() {
        return String.format("%d calls: %d throttled, %d 5xx, %d entries failed, %d answers lost, %d slow",
                calls.get(), throttled.get(), serverErrors.get(), failedEntries.get(), lostAnswers.get(), slowCalls.get());
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        String action = String.valueOf(exchange.getRequestHeaders().getFirst("X-Amz-Target"));
        if (!action.endsWith(".SendMessageBatch") || !MAPPER.readTree(body).path("Entries").elements().hasNext()) {
            forward(exchange, body);
            return;
        }
        calls.incrementAndGet();
        boolean resent = false;
        for (JsonNode entry : MAPPER.readTree(body).path("Entries")) {
            resent |= !seenEntries.add(entry.path("Id").asText() + "\u0000" + entry.path("MessageBody").asText());
        }
        if (resent) {
            resentCalls.incrementAndGet();
        }
        var random = ThreadLocalRandom.current();
        try {
            if (random.nextInt(100) < faults.slowPercent()) {
                slowCalls.incrementAndGet();
                Thread.sleep(random.nextInt(faults.maxDelayMillis() + 1));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (random.nextInt(100) < faults.throttlePercent()) {
            throttled.incrementAndGet();
            error(exchange, 400, "com.amazonaws.sqs#ThrottlingException", "Rate exceeded");
            return;
        }
        if (random.nextInt(100) < faults.serverErrorPercent()) {
            serverErrors.incrementAndGet();
            error(exchange, 500, "com.amazonaws.sqs#InternalError", "We encountered an internal error");
            return;
        }
        ObjectNode request = (ObjectNode) MAPPER.readTree(body);
        ArrayNode kept = MAPPER.createArrayNode();
        ArrayNode refused = MAPPER.createArrayNode();
        for (JsonNode entry : request.path("Entries")) {
            if (random.nextInt(100) < faults.entryFailurePercent()) {
                failedEntries.incrementAndGet();
                refused.addObject().put("Id", entry.get("Id").asText()).put("SenderFault", false)
                        .put("Code", "InternalError").put("Message", "injected by the fault proxy");
            } else {
                kept.add(entry);
                String deduplicationId = entry.path("MessageDeduplicationId").asText("");
                if (!deduplicationId.isEmpty() && !forwardedDeduplicationIds.add(deduplicationId)) {
                    repeatedDeduplicationIds.incrementAndGet();
                }
            }
        }
        ObjectNode answer;
        if (kept.isEmpty()) {
            answer = MAPPER.createObjectNode();
            answer.putArray("Successful");
        } else {
            request.set("Entries", kept);
            var response = send(exchange, MAPPER.writeValueAsBytes(request));
            if (response == null) {
                return;
            }
            if (response.statusCode() != 200) {
                reply(exchange, response.statusCode(), response.body());
                return;
            }
            answer = (ObjectNode) MAPPER.readTree(response.body());
        }
        if (random.nextInt(100) < faults.lostAnswerPercent()) {
            lostAnswers.incrementAndGet();
            exchange.close(); // stored, but the caller never hears so
            return;
        }
        ArrayNode failed = answer.has("Failed") ? (ArrayNode) answer.get("Failed") : answer.putArray("Failed");
        failed.addAll(refused);
        reply(exchange, 200, MAPPER.writeValueAsBytes(answer));
    }

    private void forward(HttpExchange exchange, byte[] body) throws IOException {
        var response = send(exchange, body);
        if (response != null) {
            reply(exchange, response.statusCode(), response.body());
        }
    }

    private HttpResponse<byte[]> send(HttpExchange exchange, byte[] body) throws IOException {
        var request = HttpRequest.newBuilder(target.resolve(exchange.getRequestURI().toString()))
                .method(exchange.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(body));
        exchange.getRequestHeaders().forEach((name, values) -> {
            if (!HOP_BY_HOP.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                values.forEach(v -> request.header(name, v));
            }
        });
        try {
            return client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exchange.close();
            return null;
        } catch (IOException e) {
            error(exchange, 502, "Proxy", "the server behind the proxy did not answer: " + e);
            return null;
        }
    }

    private static void error(HttpExchange exchange, int status, String type, String message) throws IOException {
        String json = MAPPER.createObjectNode().put("__type", type).put("message", message).toString();
        reply(exchange, status, json.getBytes(StandardCharsets.UTF_8));
    }

    private static void reply(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.0");
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
