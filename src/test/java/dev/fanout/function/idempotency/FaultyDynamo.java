package dev.fanout.function.idempotency;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A proxy in front of dynalite that passes every request on, except the ones a test names: the n-th request of an
 * operation (PutItem, GetItem, DeleteItem) gets an error of DynamoDB's (throttling, a refused item size), a late
 * answer, or none until the test ends. Lets a test fault one call of the store's several for one item, on the real
 * server.
 */
final class FaultyDynamo implements AutoCloseable {

    /** What the n-th request of an operation gets instead of dynalite's answer. */
    sealed interface Fault {
        /** DynamoDB's JSON error: {@code type} as in {@code __type}, HTTP 400. */
        record Error(String type, String message) implements Fault {
        }

        /** Dynalite's own answer, {@code delay} late. */
        record Late(Duration delay) implements Fault {
        }

        /** No answer until the proxy closes. */
        record Silent() implements Fault {
        }
    }

    static Fault throttled() {
        return new Fault.Error("com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded");
    }

    static Fault tooLarge() {
        return new Fault.Error("com.amazon.coral.validate#ValidationException",
                "Item size has exceeded the maximum allowed size");
    }

    private final HttpServer server;
    private final URI target;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
    private final Map<String, Fault> faults = new ConcurrentHashMap<>();
    private final List<String> operations = new CopyOnWriteArrayList<>();
    private final CountDownLatch closing = new CountDownLatch(1);

    private FaultyDynamo(HttpServer server, URI target) {
        this.server = server;
        this.target = target;
    }

    static FaultyDynamo start(URI target) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        FaultyDynamo proxy = new FaultyDynamo(server, target);
        server.createContext("/", proxy::handle);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        return proxy;
    }

    /** The {@code nth} request (from 1) of {@code operation} gets {@code fault}. */
    FaultyDynamo on(String operation, int nth, Fault fault) {
        faults.put(operation + "#" + nth, fault);
        return this;
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** The operations asked for, in order. */
    List<String> operations() {
        return List.copyOf(operations);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String targetHeader = exchange.getRequestHeaders().getFirst("X-Amz-Target");
            String operation = targetHeader == null ? "?" : targetHeader.substring(targetHeader.indexOf('.') + 1);
            operations.add(operation);
            int nth = seen.computeIfAbsent(operation, o -> new AtomicInteger()).incrementAndGet();
            Fault fault = faults.get(operation + "#" + nth);
            switch (fault) {
                case Fault.Error(String type, String message) -> {
                    answer(exchange, 400, ("{\"__type\":\"" + type + "\",\"message\":\"" + message + "\"}")
                            .getBytes(StandardCharsets.UTF_8));
                    return;
                }
                case Fault.Silent() -> {
                    closing.await(30, TimeUnit.SECONDS);
                    return;
                }
                case Fault.Late(Duration delay) -> Thread.sleep(delay); // the fault under test is the delay itself
                case null -> {
                }
            }
            HttpRequest.Builder forward = HttpRequest.newBuilder(target).POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .timeout(Duration.ofSeconds(30));
            for (String header : List.of("Content-Type", "X-Amz-Target", "X-Amz-Date", "Authorization")) {
                String value = exchange.getRequestHeaders().getFirst(header);
                if (value != null) {
                    forward.header(header, value);
                }
            }
            HttpResponse<byte[]> answer = http.send(forward.build(), HttpResponse.BodyHandlers.ofByteArray());
            answer(exchange, answer.statusCode(), answer.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void answer(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.0");
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
        http.close();
    }
}
