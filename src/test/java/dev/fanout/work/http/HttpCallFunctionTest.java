package dev.fanout.work.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.assertj.core.api.InstanceOfAssertFactories.type;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import dev.fanout.engine.Batch;
import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Cancellation;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.ManualTicker;
import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.Outcome.Failed;
import dev.fanout.engine.Outcome.Rejected;
import dev.fanout.engine.Outcome.Succeeded;
import dev.fanout.engine.Outcome.TimedOut;
import dev.fanout.engine.WorkerPool;
import dev.fanout.work.ParsedItem;
import dev.fanout.testing.FanoutSettings;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.WorkItem;

/**
 * The http handler against a real local server (the JDK's), run through the real engine and dispatcher.
 * Host names other than IP literals go through an injected resolver: no real DNS.
 */
class HttpCallFunctionTest {

    static final ObjectMapper MAPPER = dev.fanout.testing.JacksonBindings.recording(new ObjectMapper());
    /** The defaults, with loopback opened so that items can reach the local server. */
    static final HttpSettings LOCAL = local();

    /** The defaults with the loopback range allowed, and {@code properties} (name, value ...) over them. */
    static HttpSettings local(String... properties) {
        String[] all = java.util.Arrays.copyOf(properties, properties.length + 2);
        all[properties.length] = "allow";
        all[properties.length + 1] = "127.0.0.1/32";
        return FanoutSettings.http(all);
    }
    static final Duration FIVE_SECONDS = Duration.ofSeconds(5);

    static HttpServer server;
    static int port;
    static final AtomicInteger routeCount = new AtomicInteger();

    @BeforeAll
    static void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        port = server.getAddress().getPort();
    }

    @AfterAll
    static void stopServer() {
        server.stop(0);
    }

    // ---------------------------------------------------------------- server side

    @FunctionalInterface
    interface Respond {
        void respond(HttpExchange exchange) throws Exception;
    }

    /** A fresh path on the server; {@code url} is its address, {@code hits} counts its requests. */
    record Route(String path, String url, AtomicInteger hits) {
        String urlOn(String host) {
            return "http://" + host + ":" + port + path;
        }
    }

    static Route route(Respond respond) {
        String path = "/r" + routeCount.incrementAndGet() + "/";
        var hits = new AtomicInteger();
        server.createContext(path, exchange -> {
            hits.incrementAndGet();
            try {
                respond.respond(exchange);
            } catch (IOException clientWentAway) {
                // a truncating or cancelled client closes the connection mid-response
            } catch (Exception e) {
                throw new IllegalStateException(e);
            } finally {
                exchange.close();
            }
        });
        return new Route(path, "http://127.0.0.1:" + port + path, hits);
    }

    static void reply(HttpExchange exchange, int status, String contentType, byte[] body, String... headers)
            throws IOException {
        if (contentType != null) {
            exchange.getResponseHeaders().set("Content-Type", contentType);
        }
        for (int i = 0; i < headers.length; i += 2) {
            exchange.getResponseHeaders().add(headers[i], headers[i + 1]);
        }
        if (body.length == 0) {
            exchange.sendResponseHeaders(status, -1);
        } else {
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
        }
    }

    static void reply(HttpExchange exchange, int status, String text, String... headers) throws IOException {
        reply(exchange, status, "text/plain; charset=utf-8", text.getBytes(UTF_8), headers);
    }

    /** What the server saw of one request. */
    record Seen(String method, String path, Map<String, String> headers, String body) {
        static Seen of(HttpExchange exchange) throws IOException {
            Map<String, String> headers = new LinkedHashMap<>();
            exchange.getRequestHeaders().forEach((name, values) -> headers.put(name.toLowerCase(), String.join(", ", values)));
            return new Seen(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), headers,
                    new String(exchange.getRequestBody().readAllBytes(), UTF_8));
        }
    }

    // ---------------------------------------------------------------- running items

    static String payload(Object... keyValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put((String) keyValues[i], keyValues[i + 1]);
        }
        try {
            return MAPPER.writeValueAsString(map);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static BatchResult<JsonNode> runAll(HttpCallFunction handler, WorkerPool pool, Deadline deadline, List<String> payloads) {
        var dispatcher = TestFunctions.builder(MAPPER).add(handler).build().dispatcher();
        List<ParsedItem> items = new ArrayList<>();
        for (int i = 0; i < payloads.size(); i++) {
            try {
                items.add(new ParsedItem.Valid(new WorkItem("item-" + i, HttpCallFunction.TYPE, Optional.empty(),
                        MAPPER.readTree(payloads.get(i)))));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        return pool.run(Batch.of(items), dispatcher, deadline);
    }

    static Outcome<JsonNode> run(HttpCallFunction handler, Duration deadline, String payload) {
        return runAll(handler, new WorkerPool(Limits.of(8)), Deadline.after(deadline), List.of(payload)).outcome(0);
    }

    static Outcome<JsonNode> run(HttpSettings settings, String payload) {
        try (var handler = new HttpCallFunction(settings)) {
            return run(handler, FIVE_SECONDS, payload);
        }
    }

    static JsonNode succeeded(Outcome<JsonNode> outcome) {
        assertThat(outcome).isInstanceOf(Succeeded.class);
        return ((Succeeded<JsonNode>) outcome).value();
    }

    static Failed<JsonNode> failed(Outcome<JsonNode> outcome, boolean retryable, String message) {
        assertThat(outcome).isInstanceOf(Failed.class);
        var failed = (Failed<JsonNode>) outcome;
        assertThat(failed.error()).hasMessage(message);
        assertThat(failed.retryable()).as("retryable").isEqualTo(retryable);
        return failed;
    }

    static JsonNode json(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    // ---------------------------------------------------------------- responses

    @Nested
    class Responses {

        @Test
        void okReturnsStatusTheChosenHeadersAndTheJsonBodyAsText() {
            var seen = new ConcurrentLinkedQueue<Seen>();
            Route route = route(exchange -> {
                seen.add(Seen.of(exchange));
                reply(exchange, 200, "application/json", "{\"ok\":true}".getBytes(UTF_8),
                        "ETag", "\"v1\"", "X-Not-Chosen", "1");
            });

            JsonNode output = succeeded(run(LOCAL, payload("url", route.url())));

            assertThat(output).isEqualTo(json("""
                    {"status": 200,
                     "headers": {"content-type": "application/json", "content-length": "11", "etag": "\\"v1\\""},
                     "body": "{\\"ok\\":true}",
                     "truncated": false}"""));
            assertThat(route.hits()).hasValue(1);
            assertThat(seen).singleElement().satisfies(request -> {
                assertThat(request.method()).isEqualTo("GET");
                assertThat(request.headers()).containsEntry("user-agent", "fanout/0.1");
            });
        }

        @Test
        void postSendsTheBodyAndTheItemsHeaders() {
            var seen = new ConcurrentLinkedQueue<Seen>();
            Route route = route(exchange -> {
                seen.add(Seen.of(exchange));
                reply(exchange, 201, "created", "Location", "/orders/9");
            });

            JsonNode output = succeeded(run(LOCAL, payload("method", "POST", "url", route.url(),
                    "headers", Map.of("Content-Type", "application/json", "X-Request-Id", "r-1"),
                    "body", "{\"sku\":7}")));

            assertThat(output).isEqualTo(json("""
                    {"status": 201,
                     "headers": {"content-type": "text/plain; charset=utf-8", "content-length": "7", "location": "/orders/9"},
                     "body": "created", "truncated": false}"""));
            assertThat(seen).singleElement().satisfies(request -> {
                assertThat(request.method()).isEqualTo("POST");
                assertThat(request.body()).isEqualTo("{\"sku\":7}");
                assertThat(request.headers()).containsEntry("content-type", "application/json")
                        .containsEntry("x-request-id", "r-1")
                        .containsEntry("content-length", "9");
            });
        }

        @Test
        void aBodyWithoutContentTypeGoesAsUtf8Text() {
            var seen = new ConcurrentLinkedQueue<Seen>();
            Route route = route(exchange -> {
                seen.add(Seen.of(exchange));
                reply(exchange, 204, null, new byte[0]);
            });

            JsonNode output = succeeded(run(LOCAL, payload("method", "PUT", "url", route.url(), "body", "grüße")));

            assertThat(output).isEqualTo(json("{\"status\": 204, \"headers\": {}, \"body\": \"\", \"truncated\": false}"));
            assertThat(seen).singleElement().satisfies(request -> {
                assertThat(request.method()).isEqualTo("PUT");
                assertThat(request.body()).isEqualTo("grüße");
                assertThat(request.headers()).containsEntry("content-type", "text/plain; charset=UTF-8");
            });
        }

        @Test
        void aLargeBodyIsTruncatedAtTheCapAndTheConnectionIsNotDrained() {
            byte[] mebibyte = new byte[1 << 20];
            Arrays.fill(mebibyte, (byte) 'a');
            Route large = route(exchange -> reply(exchange, 200, "text/plain", mebibyte));
            Route small = route(exchange -> reply(exchange, 200, "after"));

            try (var handler = new HttpCallFunction(LOCAL)) {
                JsonNode output = succeeded(run(handler, FIVE_SECONDS, payload("url", large.url())));

                assertThat(output.get("truncated").asBoolean()).isTrue();
                assertThat(output.get("body").asText()).hasSize(65_536).matches("a+");
                assertThat(output.get("headers").get("content-length").asText()).isEqualTo("1048576");
                // the dropped connection leaves the pool healthy
                assertThat(succeeded(run(handler, FIVE_SECONDS, payload("url", small.url()))).get("body").asText())
                        .isEqualTo("after");
            }
        }

        @Test
        void anEndlessBodyIsCutAtTheCapWithoutReadingOn() throws InterruptedException {
            var clientGone = new CountDownLatch(1);
            Route route = route(exchange -> {
                exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
                exchange.sendResponseHeaders(200, 0); // chunked, and it never ends by itself
                byte[] chunk = new byte[8_192];
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                try {
                    while (System.nanoTime() < until) {
                        exchange.getResponseBody().write(chunk);
                    }
                } catch (IOException e) {
                    clientGone.countDown();
                    throw e;
                }
            });

            long start = System.nanoTime();
            JsonNode output = succeeded(run(LOCAL, payload("url", route.url())));

            assertThat(output.get("truncated").asBoolean()).isTrue();
            assertThat(Base64.getDecoder().decode(output.get("bodyBase64").asText())).hasSize(65_536);
            assertThat(millisSince(start)).as("returned without draining the stream").isLessThan(2_000);
            assertThat(clientGone.await(5, TimeUnit.SECONDS)).as("the client dropped the connection").isTrue();
        }

        @Test
        void aBinaryBodyIsBase64AndTruncatedToTheExactCap() {
            byte[] bytes = new byte[5_000];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) i;
            }
            Route whole = route(exchange -> reply(exchange, 200, "application/octet-stream", Arrays.copyOf(bytes, 256)));
            Route cut = route(exchange -> reply(exchange, 200, "image/png", bytes));

            JsonNode output = succeeded(run(LOCAL, payload("url", whole.url())));
            assertThat(output).isEqualTo(json("""
                    {"status": 200,
                     "headers": {"content-type": "application/octet-stream", "content-length": "256"},
                     "bodyBase64": "%s", "truncated": false}""".formatted(
                    Base64.getEncoder().encodeToString(Arrays.copyOf(bytes, 256)))));

            JsonNode truncated = succeeded(run(local("max-body-bytes", "1000"), payload("url", cut.url())));
            assertThat(truncated.has("body")).isFalse();
            assertThat(truncated.get("truncated").asBoolean()).isTrue();
            assertThat(Base64.getDecoder().decode(truncated.get("bodyBase64").asText()))
                    .isEqualTo(Arrays.copyOf(bytes, 1_000));
        }

        @Test
        void textIsDecodedInItsCharsetAndOnlyWhenItIsCleanText() {
            assertThat(BodyText.text("café".getBytes(ISO_8859_1), false, "text/plain; charset=ISO-8859-1"))
                    .isEqualTo("café");
            assertThat(BodyText.text("{\"a\":1}".getBytes(UTF_8), false, "application/problem+json"))
                    .isEqualTo("{\"a\":1}");
            assertThat(BodyText.text("x".getBytes(UTF_8), false, "application/octet-stream; charset=\"utf-8\""))
                    .isEqualTo("x");
            // a truncated body cut inside "é" keeps what came before it
            assertThat(BodyText.text(Arrays.copyOf("abé".getBytes(UTF_8), 3), true, "text/plain")).isEqualTo("ab");
            assertThat(BodyText.text(Arrays.copyOf("abé".getBytes(UTF_8), 3), false, "text/plain")).isNull();
            assertThat(BodyText.text(new byte[] {'a', 0, 'b'}, false, "text/plain")).isNull();
            assertThat(BodyText.text(new byte[] {(byte) 0xff}, false, "application/json")).isNull();
            assertThat(BodyText.text("x".getBytes(UTF_8), false, "text/plain; charset=no-such-charset")).isNull();
            assertThat(BodyText.text("x".getBytes(UTF_8), false, "image/gif")).isNull();
            assertThat(BodyText.text(new byte[0], false, null)).isEmpty();
        }

        @Test
        void responseHeadersAreJoinedAndBounded() {
            String part = "x".repeat(4_000);
            Route repeated = route(exchange -> reply(exchange, 200, "ok", "ETag", "a", "ETag", "b",
                    "Location", part, "Location", part, "Location", part));
            Route overlong = route(exchange -> reply(exchange, 200, "ok", "X-Huge", "y".repeat(10_000)));

            JsonNode headers = succeeded(run(LOCAL, payload("url", repeated.url()))).get("headers");
            assertThat(headers.get("etag").asText()).isEqualTo("a, b");
            assertThat(headers.get("location").asText()).hasSize(GuardedTransport.MAX_HEADER_CHARS)
                    .startsWith(part + ", " + part.substring(0, 10));

            Outcome<JsonNode> outcome = run(local("max-attempts", "1"), payload("url", overlong.url()));
            assertThat(outcome).isInstanceOf(Failed.class);
            assertThat(((Failed<JsonNode>) outcome).error()).hasMessageStartingWith("GET " + overlong.url() + " failed: ")
                    .hasMessageContaining("line length");
        }

        @Test
        void headReturnsTheStatusAndHeadersOnly() {
            Route route = route(exchange -> {
                exchange.getResponseHeaders().set("Content-Type", "text/html");
                exchange.getResponseHeaders().set("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT");
                exchange.sendResponseHeaders(200, -1);
            });

            assertThat(succeeded(run(LOCAL, payload("method", "HEAD", "url", route.url())))).isEqualTo(json("""
                    {"status": 200,
                     "headers": {"content-type": "text/html", "last-modified": "Wed, 21 Oct 2015 07:28:00 GMT"},
                     "body": "", "truncated": false}"""));
        }
    }

    // ---------------------------------------------------------------- failures and retries

    @Nested
    class Failures {

        @Test
        void a404IsPermanent() {
            Route route = route(exchange -> reply(exchange, 404, "no such order"));

            failed(run(LOCAL, payload("url", route.url() + "orders/7?token=secret")), false,
                    "HTTP 404 from " + route.url() + "orders/7?...");
            assertThat(route.hits()).hasValue(1);
        }

        @Test
        void a429WithARetryAfterThatFitsIsRetriedAfterIt() {
            Route route = route(new Respond() {
                final AtomicInteger calls = new AtomicInteger();

                public void respond(HttpExchange exchange) throws IOException {
                    if (calls.incrementAndGet() == 1) {
                        reply(exchange, 429, "slow down", "Retry-After", "1");
                    } else {
                        reply(exchange, 200, "done");
                    }
                }
            });

            long start = System.nanoTime();
            JsonNode output = succeeded(run(LOCAL, payload("url", route.url())));

            assertThat(output.get("body").asText()).isEqualTo("done");
            assertThat(route.hits()).hasValue(2);
            assertThat(millisSince(start)).isGreaterThanOrEqualTo(1_000);
        }

        @Test
        void a429WithARetryAfterBeyondTheDeadlineFailsRetryableAtOnce() {
            Route route = route(exchange -> reply(exchange, 429, "later", "Retry-After", "120"));
            var ticker = new ManualTicker(); // time stands still: the message's "2.0 s left" is exact

            long start = System.nanoTime();
            Outcome<JsonNode> outcome;
            try (var handler = new HttpCallFunction(LOCAL)) {
                outcome = runAll(handler, new WorkerPool(Limits.of(1), ticker), Deadline.after(Duration.ofSeconds(2), ticker),
                        List.of(payload("url", route.url()))).outcome(0);
            }

            Failed<JsonNode> failure = failed(outcome, true,
                    "HTTP 429 from " + route.url() + ": Retry-After 120 s exceeds the 2.0 s left");
            assertThat(failure.error()).asInstanceOf(type(HttpCallException.class)).satisfies(e -> {
                assertThat(e.status()).isEqualTo(429);
                assertThat(e.retryAfter()).contains(Duration.ofSeconds(120));
            });
            // the outcome carries the wait: a queue's record comes back no earlier than the service asked
            assertThat(failure.retryAfter()).contains(Duration.ofSeconds(120));
            assertThat(route.hits()).hasValue(1);
            assertThat(millisSince(start)).isLessThan(2_000);
        }

        @Test
        void a503WithAnHttpDateBeyondTheDeadlineCarriesTheWaitOnItsOutcome() {
            String inFiveMinutes = java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME
                    .format(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).plusSeconds(300));
            Route route = route(exchange -> reply(exchange, 503, "maintenance", "Retry-After", inFiveMinutes));

            Outcome<JsonNode> outcome;
            try (var handler = new HttpCallFunction(LOCAL)) {
                outcome = runAll(handler, new WorkerPool(Limits.of(1)), Deadline.after(Duration.ofSeconds(5)),
                        List.of(payload("url", route.url()))).outcome(0);
            }

            var failure = (Failed<JsonNode>) outcome;
            assertThat(failure.retryable()).isTrue();
            // the date has whole seconds: the wait is between 299 and 300 s, whenever in its second the test ran
            assertThat(failure.retryAfter()).hasValueSatisfying(
                    wait -> assertThat(wait).isBetween(Duration.ofSeconds(298), Duration.ofSeconds(300)));
            assertThat(route.hits()).hasValue(1);
        }

        @Test
        void a500CarriesNoWaitAndAnUnreadableRetryAfterIsNone() {
            Route error = route(exchange -> reply(exchange, 500, "oops", "Retry-After", "120"));
            Route garbage = route(exchange -> reply(exchange, 503, "busy", "Retry-After", "soon"));

            assertThat(((Failed<JsonNode>) run(local("max-attempts", "1"), payload("url", error.url()))).retryAfter()).isEmpty();
            assertThat(((Failed<JsonNode>) run(local("max-attempts", "1"), payload("url", garbage.url()))).retryAfter())
                    .isEmpty();
        }

        @Test
        void a500IsRetryableAndRetriedUpToMaxAttempts() {
            Route twice = route(exchange -> reply(exchange, 500, "oops"));
            Route thrice = route(exchange -> reply(exchange, 502, "bad gateway"));

            Failed<JsonNode> failure = failed(run(LOCAL, payload("url", twice.url())), true,
                    "HTTP 500 from " + twice.url() + " (after 2 attempts)");
            assertThat(failure.error()).asInstanceOf(type(HttpCallException.class))
                    .satisfies(e -> assertThat(e.status()).isEqualTo(500));
            assertThat(twice.hits()).hasValue(2);

            failed(run(local("max-attempts", "3"), payload("url", thrice.url())), true,
                    "HTTP 502 from " + thrice.url() + " (after 3 attempts)");
            assertThat(thrice.hits()).hasValue(3);
        }

        @Test
        void a503WithoutRetryAfterIsRetriedAfterABackoffAndCanSucceed() {
            Route route = route(new Respond() {
                final AtomicInteger calls = new AtomicInteger();

                public void respond(HttpExchange exchange) throws IOException {
                    reply(exchange, calls.incrementAndGet() == 1 ? 503 : 200, "x");
                }
            });

            assertThat(succeeded(run(LOCAL, payload("url", route.url()))).get("status").asInt()).isEqualTo(200);
            assertThat(route.hits()).hasValue(2);
        }

        @Test
        void a429WithoutRetryAfterIsLeftToTheRedelivery() {
            Route route = route(exchange -> reply(exchange, 429, "busy"));

            failed(run(LOCAL, payload("url", route.url())), true, "HTTP 429 from " + route.url());
            assertThat(route.hits()).hasValue(1);
        }

        @Test
        void retryAfterIsReadAsSecondsOrAsAnHttpDate() {
            Instant now = Instant.parse("2015-10-21T07:27:30Z");
            assertThat(RetryPolicy.parseRetryAfter("120", now)).isEqualTo(Duration.ofSeconds(120));
            assertThat(RetryPolicy.parseRetryAfter(" 0 ", now)).isEqualTo(Duration.ZERO);
            assertThat(RetryPolicy.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now)).isEqualTo(Duration.ofSeconds(30));
            assertThat(RetryPolicy.parseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now)).isEqualTo(Duration.ZERO);
            assertThat(RetryPolicy.parseRetryAfter("soon", now)).isNull();
            assertThat(RetryPolicy.parseRetryAfter("-5", now)).isNull();
            assertThat(RetryPolicy.parseRetryAfter(null, now)).isNull();
        }

        @Test
        void theBackoffIsCappedAndJittered() {
            assertThat(RetryPolicy.BACKOFF.ceilingNanos(1)).isEqualTo(Duration.ofMillis(100).toNanos());
            assertThat(RetryPolicy.BACKOFF.ceilingNanos(3)).isEqualTo(Duration.ofMillis(400).toNanos());
            assertThat(RetryPolicy.BACKOFF.ceilingNanos(10)).isEqualTo(Duration.ofMillis(1_000).toNanos());
            for (int i = 0; i < 100; i++) {
                assertThat(RetryPolicy.BACKOFF.pause(1)).isBetween(Duration.ZERO, Duration.ofMillis(100));
                assertThat(RetryPolicy.BACKOFF.pause(3)).isBetween(Duration.ZERO, Duration.ofMillis(400));
                assertThat(RetryPolicy.BACKOFF.pause(10)).isBetween(Duration.ZERO, Duration.ofMillis(1_000));
            }
        }

        @Test
        void aRefusedConnectionIsRetryable() throws IOException {
            int closedPort;
            try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                closedPort = socket.getLocalPort();
            }
            String url = "http://127.0.0.1:" + closedPort + "/";

            Outcome<JsonNode> outcome = run(LOCAL, payload("url", url));

            assertThat(outcome).isInstanceOf(Failed.class);
            var failure = (Failed<JsonNode>) outcome;
            assertThat(failure.retryable()).isTrue();
            assertThat(failure.error()).isInstanceOf(HttpCallException.class);
            assertThat(failure.error().getMessage()).startsWith("GET " + url + " failed: ")
                    .contains("Connection refused").endsWith(" (after 2 attempts)");
        }

        @Test
        void aDnsFailureIsRetryable() {
            var lookups = new AtomicInteger();
            SsrfGuard.Resolver nothing = host -> {
                lookups.incrementAndGet();
                throw new UnknownHostException("no such host");
            };
            try (var handler = new HttpCallFunction(LOCAL, nothing)) {
                failed(run(handler, FIVE_SECONDS, payload("url", "https://nowhere.test/x")), true,
                        "cannot resolve nowhere.test: no such host (after 2 attempts)");
            }
            assertThat(lookups).hasValue(2);
        }

        @Test
        void aHungServerDoesNotHoldTheItemPastItsDeadline() {
            var release = new CountDownLatch(1);
            Route route = route(exchange -> {
                release.await(30, TimeUnit.SECONDS);
                reply(exchange, 200, "too late");
            });
            try (var handler = new HttpCallFunction(LOCAL)) {
                long start = System.nanoTime();
                Outcome<JsonNode> outcome = run(handler, Duration.ofMillis(600), payload("url", route.url()));

                assertThat(millisSince(start)).isLessThan(2_000);
                if (outcome instanceof Failed<JsonNode> failure) {
                    assertThat(failure.retryable()).isTrue();
                    assertThat(failure.error()).hasMessageStartingWith("GET " + route.url() + " timed out after ");
                } else {
                    assertThat(outcome).isInstanceOf(TimedOut.class);
                }
            } finally {
                release.countDown();
            }
        }

        @Test
        void theItemsTimeoutEndsAnAttempt() {
            var release = new CountDownLatch(1);
            Route route = route(exchange -> {
                release.await(30, TimeUnit.SECONDS);
                reply(exchange, 200, "too late");
            });
            try {
                long start = System.nanoTime();
                failed(run(local("max-attempts", "1"), payload("url", route.url(), "timeoutMillis", 200)), true,
                        "GET " + route.url() + " timed out after 200 ms");
                assertThat(millisSince(start)).isLessThan(2_000);
            } finally {
                release.countDown();
            }
        }

        @Test
        void cancellationAbortsTheRequestInFlight() throws Exception {
            var arrived = new CountDownLatch(1);
            var release = new CountDownLatch(1);
            Route route = route(exchange -> {
                arrived.countDown();
                release.await(30, TimeUnit.SECONDS);
                reply(exchange, 200, "too late");
            });
            var ticker = new ManualTicker(); // the 10 s attempt limit is real time; the deadline is the ticker's
            // cut-off 10 s before the deadline, so that the engine waits up to 5 s for the item to stop
            var pool = new WorkerPool(Limits.of(1).withCutoffMargin(Duration.ofSeconds(10))
                    .withCancelGrace(Duration.ofSeconds(5)), ticker);
            try (var handler = new HttpCallFunction(LOCAL); var caller = Executors.newVirtualThreadPerTaskExecutor()) {
                CompletableFuture<BatchResult<JsonNode>> run = CompletableFuture.supplyAsync(
                        () -> runAll(handler, pool, Deadline.after(Duration.ofSeconds(60), ticker),
                                List.of(payload("url", route.url()))),
                        caller);
                assertThat(arrived.await(5, TimeUnit.SECONDS)).isTrue();
                long start = System.nanoTime();

                ticker.advance(Duration.ofSeconds(51));
                BatchResult<JsonNode> result = run.get(5, TimeUnit.SECONDS);

                assertThat(result.outcome(0)).isInstanceOf(TimedOut.class);
                assertThat(((TimedOut<JsonNode>) result.outcome(0)).cause()).isEqualTo(Cancellation.Cause.CUT_OFF);
                assertThat(result.summary().abandoned()).as("items still running after the grace").isZero();
                assertThat(millisSince(start)).isLessThan(2_000);
            } finally {
                release.countDown();
            }
        }

        @Test
        void withNoTimeLeftNothingIsSent() {
            Route route = route(exchange -> reply(exchange, 200, "x"));
            var ticker = new ManualTicker();
            Outcome<JsonNode> outcome;
            try (var handler = new HttpCallFunction(LOCAL)) {
                outcome = runAll(handler, new WorkerPool(Limits.of(1), ticker), Deadline.after(Duration.ofMillis(3), ticker),
                        List.of(payload("url", route.url()))).outcome(0);
            }

            failed(outcome, true, "no time left to send GET " + route.url() + " (3 ms before the item's deadline)");
            assertThat(route.hits()).hasValue(0);
        }
    }

    // ---------------------------------------------------------------- malformed items

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            {}                                                  | field 'url' is required
            {"url": "/relative"}                                | field 'url' must be an absolute URL, was '/relative'
            {"url": "ftp://example.com/x"}                      | field 'url' must use http or https, was ftp
            {"url": "file:///etc/passwd"}                       | field 'url' must use http or https, was file
            {"url": "http:opaque"}                              | field 'url' must name a host
            {"url": "http://exa mple.com/"}                     | field 'url' is not a valid URL: Illegal character in authority at index 10
            {"url": "http://user:pw@example.com/"}              | field 'url' must not contain user info (send an Authorization header instead)
            {"method": "TRACE", "url": "http://example.com/"}   | field 'method' must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, was TRACE
            {"url": "http://example.com/", "headers": {"X-A\\r\\nInjected": "1"}} | field 'headers' has an invalid header name "X-A\\r\\nInjected"
            {"url": "http://example.com/", "headers": {"X-A": "1\\r\\nInjected: 2"}} | field 'headers.X-A' must not contain control characters such as CR or LF
            {"url": "http://example.com/", "headers": {"Host": "internal"}}      | field 'headers' must not set Host: the client sets it
            {"url": "http://example.com/", "timeoutMillis": 0}  | field 'timeoutMillis' must be between 5 and 900000 (an attempt with less than 5 ms is never sent), was 0
            {"url": "http://example.com/", "timeoutMillis": 1}  | field 'timeoutMillis' must be between 5 and 900000 (an attempt with less than 5 ms is never sent), was 1
            {"url": "http://example.com/", "timeoutMillis": 4}  | field 'timeoutMillis' must be between 5 and 900000 (an attempt with less than 5 ms is never sent), was 4
            {"url": "http://example.com/", "timeoutMillis": 900001} | field 'timeoutMillis' must be between 5 and 900000 (an attempt with less than 5 ms is never sent), was 900001
            {"url": "http://0177.0.0.1/"}                       | field 'url': the host '0177.0.0.1' is an ambiguous IPv4 spelling (octal, hex, short or a single number): write the address as four decimal numbers a.b.c.d
            {"url": "http://0x7f.1/"}                           | field 'url': the host '0x7f.1' is an ambiguous IPv4 spelling (octal, hex, short or a single number): write the address as four decimal numbers a.b.c.d
            {"url": "http://127.1/"}                            | field 'url': the host '127.1' is an ambiguous IPv4 spelling (octal, hex, short or a single number): write the address as four decimal numbers a.b.c.d
            {"url": "http://2130706433/"}                       | field 'url': the host '2130706433' is an ambiguous IPv4 spelling (octal, hex, short or a single number): write the address as four decimal numbers a.b.c.d
            {"url": "http://0x7f000001/"}                       | field 'url': the host '0x7f000001' is an ambiguous IPv4 spelling (octal, hex, short or a single number): write the address as four decimal numbers a.b.c.d
            {"url": "http://127.000.000.001/"}                  | field 'url': the host '127.000.000.001' is an ambiguous IPv4 spelling (octal, hex, short or a single number): write the address as four decimal numbers a.b.c.d
            {"url": "http://1.2.3.4.5/"}                        | field 'url': the host '1.2.3.4.5' is an ambiguous IPv4 spelling (octal, hex, short or a single number): write the address as four decimal numbers a.b.c.d
            {"url": "http://example.0x10/"}                     | field 'url': the host 'example.0x10' is an ambiguous IPv4 spelling (octal, hex, short or a single number): write the address as four decimal numbers a.b.c.d
            {"url": "http://example.com/", "follow": true}      | unknown field 'follow'
            """)
    void aMalformedItemIsRejectedWithItsReason(String payload, String reason) {
        Outcome<JsonNode> outcome = run(LOCAL, payload);

        assertThat(outcome).asInstanceOf(type(Rejected.class))
                .satisfies(rejected -> assertThat(rejected.reason()).isEqualTo("'http' payload: " + reason));
    }

    // ---------------------------------------------------------------- redirects

    @Nested
    class Redirects {

        @Test
        void a302ToTheSameServerIsFollowed() {
            Route route = route(exchange -> {
                if (exchange.getRequestURI().getPath().endsWith("/target")) {
                    reply(exchange, 200, "landed");
                } else {
                    reply(exchange, 302, "moved", "Location", "target");
                }
            });

            JsonNode output = succeeded(run(LOCAL, payload("url", route.url())));

            assertThat(output.get("status").asInt()).isEqualTo(200);
            assertThat(output.get("body").asText()).isEqualTo("landed");
            assertThat(route.hits()).hasValue(2);
        }

        @Test
        void a307KeepsTheMethodAndTheBody() {
            var seen = new ConcurrentLinkedQueue<Seen>();
            Route route = route(exchange -> {
                Seen request = Seen.of(exchange);
                seen.add(request);
                if (request.path().endsWith("/done")) {
                    reply(exchange, 200, "ok");
                } else {
                    reply(exchange, 307, "", "Location", "done");
                }
            });

            succeeded(run(LOCAL, payload("method", "POST", "url", route.url(),
                    "headers", Map.of("Content-Type", "application/json"), "body", "{\"a\":1}")));

            assertThat(seen).extracting(Seen::method, Seen::path, Seen::body, s -> s.headers().get("content-type"))
                    .containsExactly(
                            tuple("POST", route.path(), "{\"a\":1}", "application/json"),
                            tuple("POST", route.path() + "done", "{\"a\":1}", "application/json"));
        }

        @Test
        void a303FromAPostArrivesAsAGetWithoutBody() {
            var seen = new ConcurrentLinkedQueue<Seen>();
            Route route = route(exchange -> {
                Seen request = Seen.of(exchange);
                seen.add(request);
                if (request.path().endsWith("/result")) {
                    reply(exchange, 200, "ok");
                } else {
                    reply(exchange, 303, "", "Location", "result");
                }
            });

            succeeded(run(LOCAL, payload("method", "POST", "url", route.url(),
                    "headers", Map.of("Content-Type", "application/json"), "body", "{\"a\":1}")));

            assertThat(seen).extracting(Seen::method, Seen::body, s -> s.headers().get("content-type"))
                    .containsExactly(
                            tuple("POST", "{\"a\":1}", "application/json"),
                            tuple("GET", "", null));
        }

        @Test
        void credentialsAreDroppedWhenTheHostChanges() {
            var seen = new ConcurrentLinkedQueue<Seen>();
            Route route = route(exchange -> {
                Seen request = Seen.of(exchange);
                seen.add(request);
                if (request.path().endsWith("/there")) {
                    reply(exchange, 200, "ok");
                } else if (request.path().endsWith("/here")) {
                    reply(exchange, 302, "", "Location", "http://other.test:" + port + request.path().replace("/here", "/there"));
                } else {
                    reply(exchange, 302, "", "Location", "here");
                }
            });
            SsrfGuard.Resolver resolver = host -> new InetAddress[] {InetAddress.getLoopbackAddress()};

            try (var handler = new HttpCallFunction(LOCAL, resolver)) {
                succeeded(run(handler, FIVE_SECONDS, payload("url", route.url(), "headers",
                        Map.of("Authorization", "Bearer secret", "Cookie", "s=1", "X-Trace", "t-1"))));
            }

            assertThat(seen).extracting(s -> s.headers().get("authorization"), s -> s.headers().get("cookie"),
                    s -> s.headers().get("x-trace"), s -> s.headers().get("host"))
                    .containsExactly(
                            tuple("Bearer secret", "s=1", "t-1", "127.0.0.1:" + port),
                            tuple("Bearer secret", "s=1", "t-1", "127.0.0.1:" + port),
                            tuple(null, null, "t-1", "other.test:" + port));
        }

        @Test
        void aRedirectToTheMetadataServiceIsRefusedByTheGuard() {
            Route route = route(exchange -> reply(exchange, 302, "", "Location", "http://169.254.169.254/latest/meta-data/"));

            failed(run(LOCAL, payload("url", route.url())), false,
                    "refused by the SSRF guard: 169.254.169.254 is link-local (redirected from " + route.url() + ")");
        }

        @Test
        void aRedirectLoopStopsAtMaxRedirects() {
            Route route = route(exchange -> reply(exchange, 302, "", "Location", exchange.getRequestURI().getPath()));

            failed(run(LOCAL, payload("url", route.url())), false, "HTTP 302 from " + route.url() + ": more than 3 redirects");
            assertThat(route.hits()).hasValue(4);
        }

        @Test
        void aRedirectToAnotherSchemeIsRefused() {
            Route route = route(exchange -> reply(exchange, 301, "", "Location", "ftp://files.example/x"));

            failed(run(LOCAL, payload("url", route.url())), false,
                    "HTTP 301 from " + route.url() + ": the redirect target must use http or https, was ftp");
        }

        @Test
        void withMaxRedirectsZeroTheRedirectIsTheResult() {
            Route route = route(exchange -> reply(exchange, 302, "", "Location", "/elsewhere"));

            JsonNode output = succeeded(run(local("max-redirects", "0"), payload("url", route.url())));

            assertThat(output.get("status").asInt()).isEqualTo(302);
            assertThat(output.get("headers").get("location").asText()).isEqualTo("/elsewhere");
            assertThat(route.hits()).hasValue(1);
        }
    }

    // ---------------------------------------------------------------- SSRF guard

    @Nested
    class Ssrf {

        @ParameterizedTest
        @CsvSource(delimiter = '|', textBlock = """
                http://[::1]/                            | ::1 is loopback
                http://127.1.2.3/                        | 127.1.2.3 is loopback
                http://10.1.2.3/                         | 10.1.2.3 is private
                http://172.16.0.1/                       | 172.16.0.1 is private
                http://172.31.255.254/                   | 172.31.255.254 is private
                http://192.168.0.10/                     | 192.168.0.10 is private
                http://169.254.169.254/latest/meta-data/ | 169.254.169.254 is link-local
                http://[fe80::1]/                        | fe80::1 is link-local
                http://100.64.0.1/                       | 100.64.0.1 is carrier-grade NAT
                http://100.127.255.254/                  | 100.127.255.254 is carrier-grade NAT
                http://224.0.0.1/                        | 224.0.0.1 is multicast
                http://[ff02::1]/                        | ff02::1 is multicast
                http://0.0.0.0/                          | 0.0.0.0 is unspecified
                http://[::]/                             | :: is unspecified
                http://0.1.2.3/                          | 0.1.2.3 is in 0.0.0.0/8 (this network)
                http://255.255.255.255/                  | 255.255.255.255 is broadcast
                http://240.0.0.1/                        | 240.0.0.1 is reserved
                http://[::ffff:169.254.169.254]/         | 169.254.169.254 is link-local
                http://[fc00::1]/                        | fc00::1 is unique local
                http://[fd00:ec2::254]/                  | fd00:ec2::254 is unique local
                http://[fec0::1]/                        | fec0::1 is site-local
                http://[::127.0.0.1]/                    | ::7f00:1 is IPv4-compatible (deprecated)
                http://[64:ff9b::a9fe:a9fe]/             | 64:ff9b::a9fe:a9fe is NAT64 (embeds 169.254.169.254)
                http://[64:ff9b::808:808]/               | 64:ff9b::808:808 is NAT64 (embeds 8.8.8.8)
                http://[64:ff9b:1::1]/                   | 64:ff9b:1::1 is local-use NAT64
                http://[2002:a00:1::]/                   | 2002:a00:1:: is 6to4 (embeds 10.0.0.1)
                http://[2002:808:808::]/                 | 2002:808:808:: is 6to4 (embeds 8.8.8.8)
                http://[::ffff:0:7f00:1]/                | ::ffff:0:7f00:1 is IPv4-translated (embeds 127.0.0.1)
                http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/ | 2001:0:4136:e378:8000:63bf:3fff:fdd2 is Teredo
                http://[::8.8.8.8]/                      | ::808:808 is IPv4-compatible (deprecated)
                http://192.0.2.2/                        | 192.0.2.2 is documentation (TEST-NET-1)
                http://198.51.100.7/                     | 198.51.100.7 is documentation (TEST-NET-2)
                http://203.0.113.9/                      | 203.0.113.9 is documentation (TEST-NET-3)
                http://198.18.0.1/                       | 198.18.0.1 is benchmarking
                http://198.19.255.254/                   | 198.19.255.254 is benchmarking
                http://192.0.0.1/                        | 192.0.0.1 is in 192.0.0.0/24 (IETF protocol assignments)
                http://192.0.0.9/                        | 192.0.0.9 is in 192.0.0.0/24 (IETF protocol assignments)
                http://192.88.99.1/                      | 192.88.99.1 is 6to4 relay anycast (deprecated)
                http://[2001:db8::1]/                    | 2001:db8::1 is documentation
                http://[3fff::1]/                        | 3fff::1 is documentation
                http://[2001:2::1]/                      | 2001:2::1 is benchmarking
                http://[2001:10::1]/                     | 2001:10::1 is in 2001::/23 (IETF protocol assignments)
                http://[100::1]/                         | 100::1 is discard-only
                http://[100:0:0:1::1]/                   | 100:0:0:1::1 is dummy prefix
                http://[5f00::1]/                        | 5f00::1 is segment routing (SRv6) SIDs
                """)
        void eachNonPublicAddressClassIsRefused(String url, String refusal) {
            failed(run(FanoutSettings.http(), payload("url", url)), false, "refused by the SSRF guard: " + refusal);
        }

        @Test
        void loopbackIsRefusedUnlessAllowedAndNothingIsSent() {
            Route route = route(exchange -> reply(exchange, 200, "local"));

            failed(run(FanoutSettings.http(), payload("url", route.url())), false,
                    "refused by the SSRF guard: 127.0.0.1 is loopback");
            assertThat(route.hits()).hasValue(0);

            assertThat(succeeded(run(local(), payload("url", route.url())))
                    .get("body").asText()).isEqualTo("local");
            assertThat(succeeded(run(FanoutSettings.http("ssrf-guard", "false"), payload("url", route.url())))
                    .get("body").asText()).isEqualTo("local");
            assertThat(route.hits()).hasValue(2);
        }

        @Test
        void anIpv4MappedIpv6AnswerIsJudgedByItsIpv4Address() throws UnknownHostException {
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xff;
            mapped[11] = (byte) 0xff;
            mapped[12] = 127;
            mapped[15] = 1;
            InetAddress address = Inet6Address.getByAddress("mapped.test", mapped, -1);
            SsrfGuard.Resolver resolver = host -> new InetAddress[] {address};

            try (var handler = new HttpCallFunction(FanoutSettings.http(), resolver)) {
                failed(run(handler, FIVE_SECONDS, payload("url", "http://mapped.test/")), false,
                        "refused by the SSRF guard: ::ffff:127.0.0.1 is loopback (IPv4-mapped 127.0.0.1)");
            }
            // and an allowed IPv4 range covers it
            assertThat(new SsrfGuard(true, List.of("127.0.0.0/8"), resolver).vet("mapped.test")).containsExactly(address);
        }

        @Test
        void aHostNameIsRefusedIfAnyOfItsAddressesIsPrivate() {
            var lookups = new AtomicInteger();
            SsrfGuard.Resolver resolver = host -> {
                lookups.incrementAndGet();
                return new InetAddress[] {InetAddress.ofLiteral("93.184.215.14"), InetAddress.ofLiteral("10.0.0.7")};
            };

            try (var handler = new HttpCallFunction(FanoutSettings.http(), resolver)) {
                failed(run(handler, FIVE_SECONDS, payload("url", "https://internal.test/admin")), false,
                        "refused by the SSRF guard: 10.0.0.7 is private");
            }
            assertThat(lookups).hasValue(1);
        }

        @Test
        void theAllowListOpensCidrRangesAndExactHostNames() throws UnknownHostException {
            SsrfGuard.Resolver resolver = host -> switch (host) {
                case "intranet.test" -> new InetAddress[] {InetAddress.ofLiteral("10.9.9.9")};
                default -> new InetAddress[] {InetAddress.ofLiteral("10.9.9.10")};
            };
            var guard = new SsrfGuard(true, List.of("10.1.0.0/16", "fd00::/8", "::1/128", "Intranet.Test."), resolver);

            assertThat(guard.vet("10.1.2.3")).containsExactly(InetAddress.ofLiteral("10.1.2.3"));
            assertThat(guard.vet("10.1.255.255")).containsExactly(InetAddress.ofLiteral("10.1.255.255"));
            assertThat(guard.vet("[fd12::1]")).containsExactly(InetAddress.ofLiteral("fd12::1"));
            assertThat(guard.vet("[::1]")).containsExactly(InetAddress.ofLiteral("::1"));
            assertThat(guard.vet("INTRANET.test")).containsExactly(InetAddress.ofLiteral("10.9.9.9"));
            assertThatThrownBy(() -> guard.vet("10.2.0.1")).isInstanceOf(NonRetryableException.class)
                    .hasMessage("refused by the SSRF guard: 10.2.0.1 is private");
            assertThatThrownBy(() -> guard.vet("other.intranet.test")).isInstanceOf(NonRetryableException.class)
                    .hasMessage("refused by the SSRF guard: 10.9.9.10 is private");
            assertThatThrownBy(() -> guard.vet("127.0.0.2")).isInstanceOf(NonRetryableException.class)
                    .hasMessage("refused by the SSRF guard: 127.0.0.2 is loopback");
        }

        @Test
        void theAllowListOpensSpecialPurposeAndEmbeddedRangesToo() throws UnknownHostException {
            var guard = new SsrfGuard(true, List.of("192.0.2.0/24", "198.18.0.0/15", "64:ff9b::/96", "2001:db8::/32"),
                    SsrfGuard.Resolver.SYSTEM);

            assertThat(guard.vet("192.0.2.2")).containsExactly(InetAddress.ofLiteral("192.0.2.2"));
            assertThat(guard.vet("198.18.0.1")).containsExactly(InetAddress.ofLiteral("198.18.0.1"));
            assertThat(guard.vet("[64:ff9b::7f00:1]")).containsExactly(InetAddress.ofLiteral("64:ff9b::7f00:1"));
            assertThat(guard.vet("[2001:db8::5]")).containsExactly(InetAddress.ofLiteral("2001:db8::5"));
            assertThatThrownBy(() -> guard.vet("203.0.113.1")).isInstanceOf(NonRetryableException.class)
                    .hasMessage("refused by the SSRF guard: 203.0.113.1 is documentation (TEST-NET-3)");
        }

        @Test
        void ambiguousNumericSpellingsAreRefusedEvenWithTheGuardOff() {
            var off = new SsrfGuard(false, List.of(), SsrfGuard.Resolver.SYSTEM);
            for (String host : List.of("0177.0.0.1", "0x7f.1", "127.1", "2130706433", "017700000001", "0x7F.0.0.1")) {
                assertThatThrownBy(() -> off.vet(host)).as(host).isInstanceOf(NonRetryableException.class)
                        .hasMessageStartingWith("refused: the host '" + host.toLowerCase(java.util.Locale.ROOT)
                                + "' is an ambiguous IPv4 spelling");
            }
            assertThat(SsrfGuard.ambiguousNumericHost("127.0.0.1")).isNull();
            assertThat(SsrfGuard.ambiguousNumericHost("0.0.0.0")).isNull();
            assertThat(SsrfGuard.ambiguousNumericHost("example.com")).isNull();
            assertThat(SsrfGuard.ambiguousNumericHost("1e100.net")).isNull();
            assertThat(SsrfGuard.ambiguousNumericHost("[::1]")).isNull();
        }

        @Test
        void badAllowEntriesFailAtStartUp() {
            assertThatThrownBy(() -> FanoutSettings.http("allow", "10.0.0.0/33"))
                    .hasMessage("allow entry '10.0.0.0/33' must have a prefix length between 0 and 32");
            assertThatThrownBy(() -> FanoutSettings.http("allow", "intranet/8"))
                    .hasMessage("allow entry 'intranet/8' has no IP address before the '/'");
            assertThatThrownBy(() -> FanoutSettings.http("allow", "http://x"))
                    .hasMessage("allow entry 'http://x' has no IP address before the '/'");
            assertThatThrownBy(() -> FanoutSettings.http("allow", "bad host"))
                    .hasMessage("allow entry 'bad host' is neither a host name, an IP address nor a CIDR range");
        }

        @Test
        void theConnectionGoesToTheVettedAddressSoARebindingCannotBeUsed() {
            Route route = route(exchange -> reply(exchange, 200, "vetted"));
            var lookups = new AtomicInteger();
            // first answer: loopback (allowed); every later answer: a private address
            SsrfGuard.Resolver rebinding = host -> new InetAddress[] {lookups.incrementAndGet() == 1
                    ? InetAddress.getLoopbackAddress()
                    : InetAddress.ofLiteral("10.0.0.1")};

            try (var handler = new HttpCallFunction(LOCAL, rebinding)) {
                JsonNode output = succeeded(run(handler, FIVE_SECONDS, payload("url", route.urlOn("rebind.test"))));

                assertThat(output.get("body").asText()).isEqualTo("vetted");
                assertThat(lookups).as("the connection manager asked no second time").hasValue(1);

                // the next request resolves afresh, and is refused, although a pooled connection is open
                failed(run(handler, FIVE_SECONDS, payload("url", route.urlOn("rebind.test"))), false,
                        "refused by the SSRF guard: 10.0.0.1 is private");
                assertThat(lookups).hasValue(2);
            }
            assertThat(route.hits()).hasValue(1);
        }

        @Test
        void addressesAreClassifiedAndFormattedExactly() {
            assertThat(AddressClass.classify(InetAddress.ofLiteral("8.8.8.8"))).isNull();
            assertThat(AddressClass.classify(InetAddress.ofLiteral("172.32.0.1"))).isNull();
            assertThat(AddressClass.classify(InetAddress.ofLiteral("100.128.0.1"))).isNull();
            assertThat(AddressClass.classify(InetAddress.ofLiteral("2606:4700::1111"))).isNull();
            // the registries' globally reachable exceptions inside refused ranges
            assertThat(AddressClass.classify(InetAddress.ofLiteral("2001:1::1"))).isNull();
            assertThat(AddressClass.classify(InetAddress.ofLiteral("2001:4:112::1"))).isNull();
            assertThat(AddressClass.classify(InetAddress.ofLiteral("2001:20::1"))).isNull();
            assertThat(AddressClass.classify(InetAddress.ofLiteral("192.0.1.255"))).isNull();
            assertThat(AddressClass.classify(InetAddress.ofLiteral("192.0.3.0"))).isNull();
            assertThat(AddressClass.classify(InetAddress.ofLiteral("198.20.0.0"))).isNull();
            assertThat(AddressClass.classify(InetAddress.ofLiteral("2001:db9::1"))).isNull();
            assertThat(AddressClass.classify(InetAddress.ofLiteral("4000::1"))).isNull();
            assertThat(MessageText.address(InetAddress.ofLiteral("2001:db8:0:0:1:0:0:1"))).isEqualTo("2001:db8::1:0:0:1");
            assertThat(MessageText.address(InetAddress.ofLiteral("2001:0:0:1:0:0:0:1"))).isEqualTo("2001:0:0:1::1");
            assertThat(MessageText.address(InetAddress.ofLiteral("1:2:3:4:5:6:7:8"))).isEqualTo("1:2:3:4:5:6:7:8");
        }
    }

    // ---------------------------------------------------------------- concurrency

    @Test
    void twoHundredItemsShareEightConnectionsWithoutStarving() {
        var active = new AtomicInteger();
        var peak = new AtomicInteger();
        var allConnectionsBusy = new CountDownLatch(8);
        Route route = route(exchange -> {
            peak.accumulateAndGet(active.incrementAndGet(), Math::max);
            try {
                // hold the first requests until eight are in flight at once: the pool's limit is reached
                allConnectionsBusy.countDown();
                allConnectionsBusy.await(5, TimeUnit.SECONDS);
                exchange.getResponseHeaders().set("Content-Type", "text/plain");
                exchange.sendResponseHeaders(200, 2);
            } finally {
                active.decrementAndGet();
            }
            exchange.getResponseBody().write("ok".getBytes(UTF_8));
        });

        BatchResult<JsonNode> result;
        try (var handler = new HttpCallFunction(local("fanout.max-concurrency", "8"))) {
            result = runAll(handler, new WorkerPool(Limits.of(50)), Deadline.after(Duration.ofSeconds(15)),
                    IntStream.range(0, 200).mapToObj(i -> payload("url", route.url() + i)).toList());
        }

        assertThat(result.outcomes()).allSatisfy(outcome -> assertThat(outcome).isInstanceOf(Succeeded.class));
        assertThat(result.summary().succeeded()).isEqualTo(200);
        assertThat(result.summary().peakConcurrency()).isEqualTo(50);
        assertThat(allConnectionsBusy.getCount()).isZero();
        assertThat(peak).as("requests in flight at the server").hasValue(8);
        assertThat(route.hits()).hasValue(200);
    }

    /** Name resolution is bounded like the rest of an attempt: a lookup that never answers costs no deadline. */
    @Nested
    class HungResolver {

        @Test
        void aResolverThatNeverAnswersEndsTheItemWithinItsAttemptsNotAtTheDeadline() {
            var release = new CountDownLatch(1);
            var lookups = new AtomicInteger();
            SsrfGuard.Resolver neverAnswers = host -> {
                lookups.incrementAndGet();
                while (release.getCount() > 0) {
                    LockSupport.parkNanos(50_000_000); // like a native lookup: an interrupt does not end it
                }
                throw new UnknownHostException(host);
            };
            try (var handler = new HttpCallFunction(FanoutSettings.http(), neverAnswers)) {
                BatchResult<JsonNode> result = runAll(handler, new WorkerPool(Limits.of(8)),
                        Deadline.after(Duration.ofSeconds(30)),
                        List.of(payload("url", "http://hung.test/quote", "timeoutMillis", 200)));

                failed(result.outcome(0), true,
                        "resolving hung.test for GET http://hung.test/quote timed out after 200 ms (after 2 attempts)");
                assertThat(result.summary().abandoned()).isZero();
                assertThat(lookups).hasValue(2);
            } finally {
                release.countDown();
            }
        }

        @Test
        void anItemCancelledWhileResolvingStopsWaitingAtOnce() throws Exception {
            var release = new CountDownLatch(1);
            var resolving = new CountDownLatch(1);
            SsrfGuard.Resolver neverAnswers = host -> {
                resolving.countDown();
                while (release.getCount() > 0) {
                    LockSupport.parkNanos(50_000_000);
                }
                throw new UnknownHostException(host);
            };
            try (var handler = new HttpCallFunction(FanoutSettings.http(), neverAnswers)) {
                // the attempt's own limit (10 s) and the deadline (30 s) are far away: only the cancellation,
                // which an interrupted caller sends to every item at once, can end the wait (with the cut-off
                // instead, the lookup's own limit is the cut-off itself, and under load it came first)
                var result = new AtomicReference<BatchResult<JsonNode>>();
                Thread caller = Thread.ofPlatform().start(() -> result.set(runAll(handler,
                        new WorkerPool(Limits.of(8).withCancelGrace(Duration.ofSeconds(2))),
                        Deadline.after(Duration.ofSeconds(30)), List.of(payload("url", "http://hung.test/")))));
                assertThat(resolving.await(10, TimeUnit.SECONDS)).isTrue();
                caller.interrupt();
                caller.join(Duration.ofSeconds(10));

                assertThat(caller.isAlive()).isFalse();
                assertThat(result.get().outcome(0)).isInstanceOf(TimedOut.class);
                // within the grace: the handler's thread stopped waiting for the lookup when it was cancelled
                assertThat(result.get().summary().abandoned()).isZero();
            } finally {
                release.countDown();
            }
        }
    }
}
