package dev.fanout.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A Lambda Runtime API server (version 2018-06-01), as the Lambda service runs it next to a function:
 * the runtime long-polls {@code /invocation/next}, gets an event with its request id and
 * {@code Lambda-Runtime-Deadline-Ms} and its own X-Ray trace header {@code Lambda-Runtime-Trace-Id}, and
 * posts a response or an error. Drives a packaged function
 * through AWS's Runtime Interface Client, exactly as Lambda's Java runtime does.
 */
public final class RuntimeApiServer implements AutoCloseable {

    private static final String PREFIX = "/2018-06-01/runtime/";
    public static final String FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:fanout";

    /**
     * What the function answered for one invocation.
     *
     * @param traceId the X-Ray trace id the invocation was given (the {@code Root} of its trace header)
     */
    public record Result(String requestId, String traceId, String body, boolean error, long deadlineEpochMillis,
            long answeredEpochMillis, Duration elapsed) {

        /** Lambda would have stopped the function at the deadline: an answer after it is a timeout. */
        public boolean answeredBeforeDeadline() {
            return answeredEpochMillis <= deadlineEpochMillis;
        }
    }

    private record Pending(String requestId, String traceId, String event, Duration timeout,
            CompletableFuture<Result> result, long[] deadlineAndStart) {

        /** An X-Ray trace header as Lambda sends it: Root=1-{epoch seconds, hex}-{96 random bits, hex}. */
        static String newTraceId() {
            var random = java.util.concurrent.ThreadLocalRandom.current();
            return "1-%08x-%016x%08x".formatted(System.currentTimeMillis() / 1000, random.nextLong(), random.nextInt());
        }

        String traceHeader() {
            var random = java.util.concurrent.ThreadLocalRandom.current();
            return "Root=%s;Parent=%016x;Sampled=1".formatted(traceId, random.nextLong());
        }
    }

    private final HttpServer server;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Map<String, Pending> inFlight = new ConcurrentHashMap<>();
    private final CompletableFuture<String> initError = new CompletableFuture<>();
    private final CompletableFuture<String> exited = new CompletableFuture<>();
    private volatile boolean closed;

    private RuntimeApiServer(HttpServer server) {
        this.server = server;
    }

    public static RuntimeApiServer start() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        var api = new RuntimeApiServer(server);
        server.createContext(PREFIX, api::handle);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        return api;
    }

    /** The value of {@code AWS_LAMBDA_RUNTIME_API}. */
    public String address() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /** Invokes the function with a deadline of {@code timeout} and waits for its answer. */
    public Result invoke(String event, Duration timeout) throws Exception {
        var pending = new Pending(UUID.randomUUID().toString(), Pending.newTraceId(), event, timeout,
                new CompletableFuture<>(), new long[2]);
        queue.add(pending);
        try {
            // the function answers by its deadline; the slack covers a cold start, which comes before the deadline
            CompletableFuture.anyOf(pending.result(), initError, exited).get(timeout.toMillis() + 60_000,
                    TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("the function did not answer " + pending.requestId() + " at all", e);
        }
        if (!pending.result().isDone()) {
            queue.remove(pending);
            throw new AssertionError("no answer to " + pending.requestId() + ": "
                    + (initError.isDone() ? "init error " + initError.join() : exited.join()));
        }
        return pending.result().join();
    }

    /** Called when the function's process ends: invocations stop waiting for it. */
    public void functionExited(String why) {
        exited.complete(why);
    }

    /** Completes when the function reports an initialisation error. */
    public CompletableFuture<String> initError() {
        return initError;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath().substring(PREFIX.length());
            String body = read(exchange.getRequestBody());
            if (path.equals("invocation/next") && exchange.getRequestMethod().equals("GET")) {
                next(exchange);
            } else if (path.startsWith("invocation/") && path.endsWith("/response")) {
                complete(path, body, false, exchange);
            } else if (path.startsWith("invocation/") && path.endsWith("/error")) {
                complete(path, body, true, exchange);
            } else if (path.equals("init/error")) {
                initError.complete(body);
                exchange.sendResponseHeaders(202, -1);
            } else {
                exchange.sendResponseHeaders(404, -1);
            }
        }
    }

    private void next(HttpExchange exchange) throws IOException {
        Pending pending = null;
        try {
            while (pending == null && !closed) {
                pending = queue.poll(200, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (pending == null) {
            exchange.sendResponseHeaders(503, -1);
            return;
        }
        long now = System.currentTimeMillis();
        long deadline = now + pending.timeout().toMillis();
        pending.deadlineAndStart()[0] = deadline;
        pending.deadlineAndStart()[1] = System.nanoTime();
        inFlight.put(pending.requestId(), pending);
        byte[] event = pending.event().getBytes(StandardCharsets.UTF_8);
        var headers = exchange.getResponseHeaders();
        headers.set("Content-Type", "application/json");
        headers.set("Lambda-Runtime-Aws-Request-Id", pending.requestId());
        headers.set("Lambda-Runtime-Deadline-Ms", Long.toString(deadline));
        headers.set("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN);
        headers.set("Lambda-Runtime-Trace-Id", pending.traceHeader());
        exchange.sendResponseHeaders(200, event.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(event);
        }
    }

    private void complete(String path, String body, boolean error, HttpExchange exchange) throws IOException {
        long answered = System.currentTimeMillis();
        String requestId = path.substring("invocation/".length(), path.lastIndexOf('/'));
        Pending pending = inFlight.remove(requestId);
        if (pending == null) {
            exchange.sendResponseHeaders(400, -1);
            return;
        }
        exchange.sendResponseHeaders(202, -1);
        Duration elapsed = Duration.ofNanos(System.nanoTime() - pending.deadlineAndStart()[1]);
        pending.result().complete(new Result(requestId, pending.traceId(), body, error, pending.deadlineAndStart()[0],
                answered, elapsed));
    }

    private static String read(InputStream in) throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        closed = true;
        server.stop(0);
    }
}
