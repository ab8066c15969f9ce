package dev.fanout.work.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.sun.net.httpserver.HttpServer;

import dev.fanout.testing.FanoutSettings;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.WorkerPool;

/**
 * A {@code Retry-After} that is negative, huge, or neither seconds nor a date: the item still fails retryably (its
 * record is handed back), asks for no wait it cannot mean, and says what it could not read, so that the entry point
 * counts the fault.
 */
class UnreadableRetryAfterTest {

    static HttpServer server;
    static String url;

    @BeforeAll
    static void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        // answers the status and the Retry-After of its query: /?503&soon
        server.createContext("/", exchange -> {
            String[] query = exchange.getRequestURI().getRawQuery().split("&", 2);
            if (query.length > 1) {
                exchange.getResponseHeaders().add("Retry-After",
                        java.net.URLDecoder.decode(query[1], java.nio.charset.StandardCharsets.UTF_8));
            }
            exchange.sendResponseHeaders(Integer.parseInt(query[0]), -1);
            exchange.close();
        });
        server.start();
        url = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
    }

    @AfterAll
    static void stop() {
        server.stop(0);
    }

    static Outcome.Failed<?> failed(int status, String retryAfter) {
        String target = url + "?" + status + (retryAfter == null ? ""
                : "&" + java.net.URLEncoder.encode(retryAfter, java.nio.charset.StandardCharsets.UTF_8));
        // the holds are off: each case calls the one local service
        try (var function = new HttpCallFunction(HttpCallFunctionTest.local("max-attempts", "1"), SsrfGuard.Resolver.SYSTEM,
                ServiceHolds.off())) {
            var outcome = HttpCallFunctionTest.runAll(function, new WorkerPool(Limits.of(1)),
                    Deadline.after(Duration.ofSeconds(5)), List.of(HttpCallFunctionTest.payload("url", target))).outcome(0);
            assertThat(outcome).isInstanceOf(Outcome.Failed.class);
            var failed = (Outcome.Failed<?>) outcome;
            assertThat(failed.retryable()).as("retryable: the record is handed back").isTrue();
            return failed;
        }
    }

    static Optional<String> unreadable(Outcome.Failed<?> failed) {
        return ((HttpCallException) failed.error()).unreadableRetryAfter();
    }

    @ParameterizedTest(name = "{0} with Retry-After \"{1}\"")
    @CsvSource(delimiter = '|', value = {
            "503 | soon", "503 | -5", "429 | -120", "503 | 1.5", "503 | 12 s", "429 | Tomorrow, 25 Dec 2026",
            "503 | 0x10" })
    void anUnreadableWaitAsksForNoneAndIsReported(int status, String retryAfter) {
        var failed = failed(status, retryAfter);
        assertThat(failed.retryAfter()).isEmpty();
        assertThat(unreadable(failed)).contains(retryAfter);
        assertThat(failed.error()).hasMessage("HTTP " + status + " from " + url + "?...");
    }

    @Test
    void aLongUnreadableWaitIsKeptShort() {
        String junk = "x".repeat(500);
        assertThat(unreadable(failed(503, junk))).contains("x".repeat(RetryPolicy.MAX_UNREADABLE_CHARS) + "...");
    }

    @Test
    void aHugeNumberOfSecondsIsTheLongestWaitNotAnUnreadableOne() {
        var failed = failed(503, "99999999999999999999999");
        assertThat(failed.retryAfter()).contains(RetryPolicy.LONGEST_RETRY_AFTER);
        assertThat(unreadable(failed)).isEmpty();
        assertThat(failed(503, "999999999").retryAfter()).contains(Duration.ofSeconds(999_999_999));
        assertThat(failed(503, "1000000000").retryAfter()).contains(RetryPolicy.LONGEST_RETRY_AFTER);
    }

    @Test
    void readableAbsentOrIgnoredWaitsAreNoFault() {
        assertThat(unreadable(failed(503, "30"))).isEmpty();
        assertThat(unreadable(failed(503, null))).isEmpty();
        assertThat(unreadable(failed(503, "Wed, 21 Oct 2015 07:28:00 GMT"))).isEmpty();
        // only a 429's or a 503's Retry-After is read at all
        assertThat(unreadable(failed(500, "soon"))).isEmpty();
        assertThat(unreadable(failed(502, "soon"))).isEmpty();
    }

    @Test
    void parsing() {
        Instant now = Instant.parse("2026-12-07T12:00:00Z");
        assertThat(RetryPolicy.parseRetryAfter("99999999999", now)).isEqualTo(RetryPolicy.LONGEST_RETRY_AFTER);
        assertThat(RetryPolicy.parseRetryAfter(" 7 ", now)).isEqualTo(Duration.ofSeconds(7));
        assertThat(RetryPolicy.parseRetryAfter("-7", now)).isNull();
        assertThat(RetryPolicy.parseRetryAfter("-99999999999", now)).isNull();
        assertThat(RetryPolicy.parseRetryAfter("", now)).isNull();
    }
}
