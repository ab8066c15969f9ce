package dev.fanout.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A local HTTP server on 127.0.0.1 that answers {@code GET /delay?ms=N} after N milliseconds: the
 * downstream service of the I/O workload. Each exchange runs on its own virtual thread, so the server
 * holds any number of requests at once. It runs in the suite's JVM, so its memory is not counted in the
 * children's RSS.
 */
public final class DelayServer implements AutoCloseable {

    private static final byte[] BODY = "ok".getBytes(StandardCharsets.US_ASCII);

    private final HttpServer server;
    private final ExecutorService executor;

    private DelayServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    public static DelayServer start() throws IOException {
        // keep every client connection alive: the default closes idle connections beyond 200
        System.setProperty("sun.net.httpserver.maxIdleConnections", "100000");
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        server.createContext("/delay", DelayServer::handle);
        server.start();
        return new DelayServer(server, executor);
    }

    /** The endpoint without the query. */
    public URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/delay");
    }

    /** The request that waits {@code millis} on the server. */
    public static HttpRequest request(URI endpoint, int millis) {
        return HttpRequest.newBuilder(URI.create(endpoint + "?ms=" + millis))
                .timeout(java.time.Duration.ofSeconds(60)).GET().build();
    }

    /** Sends {@code requests} quick requests, 100 at a time, so the server is compiled before it is measured. */
    public void warmUp(int requests) throws InterruptedException {
        HttpRequest request = request(uri(), 0);
        Semaphore slots = new Semaphore(100);
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < requests; i++) {
                slots.acquire();
                threads.submit(() -> {
                    try {
                        return client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
                    } finally {
                        slots.release();
                    }
                });
            }
        }
    }

    private static void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String query = exchange.getRequestURI().getQuery();
            long millis = query != null && query.startsWith("ms=") ? Long.parseLong(query.substring(3)) : 0;
            if (millis > 0) {
                Thread.sleep(millis);
            }
            exchange.sendResponseHeaders(200, BODY.length);
            try (OutputStream body = exchange.getResponseBody()) {
                body.write(BODY);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
