package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;

import dev.fanout.batch.http.HttpAnswer;
import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.ProxyEvents;
import dev.fanout.testing.ProxyEvents.Format;
import dev.fanout.testing.ProxyEvents.Response;
import dev.fanout.testing.RuntimeApiServer;

/**
 * The late-answer case of issue 9, through the packaged function under the Runtime Interface Client,
 * with a Runtime API server that sets the deadline: 999 {@code http} items fetching 64 KiB each from a
 * local server plus one that hangs, at a Lambda timeout of 5 s, run repeatedly. The margin before the
 * deadline is never negative, and every answer is within Lambda's response limit. The cut-off margin is
 * the default one (nothing configured).
 */
class HttpLateAnswerIT {

    static final int RUNS = Integer.getInteger("fanout.late-answer.runs", 5);
    static final byte[] BODY = "x".repeat(65_536).getBytes(StandardCharsets.US_ASCII);
    static HttpServer server;
    static final CountDownLatch RELEASE = new CountDownLatch(1);
    static RuntimeApiServer api;
    static PackagedFunction function;

    @BeforeAll
    static void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1_024);
        server.createContext("/64k", exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, BODY.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(BODY);
            }
        });
        server.createContext("/hang", exchange -> {
            try {
                RELEASE.await(); // until the test ends: the item is cut off at the deadline
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
        });
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        api = RuntimeApiServer.start();
        function = PackagedFunction.start("http", api, Map.of("FANOUT_HTTP_ALLOW", "127.0.0.1/32",
                "FANOUT_MAX_CONCURRENCY", "500"));
    }

    @AfterAll
    static void stop() {
        RELEASE.countDown();
        function.close();
        api.close();
        server.stop(0);
    }

    @Test
    void theAnswerComesBeforeTheDeadlineEveryTime() throws Exception {
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        String body = ProxyEvents.batch(IntStream.range(0, 1_000).mapToObj(i -> "{\"type\":\"http\",\"payload\":{\"url\":\""
                + base + (i == 500 ? "/hang" : "/64k") + "\"}}").toList());
        List<Long> margins = new ArrayList<>();
        long largest = 0;
        for (int run = 0; run < RUNS; run++) {
            var result = api.invoke(Format.HTTP_API_V2.event(body).toString(), Duration.ofSeconds(5));

            assertThat(result.error()).as(result.body() + function.log()).isFalse();
            long margin = result.deadlineEpochMillis() - result.answeredEpochMillis();
            margins.add(margin);
            byte[] written = result.body().getBytes(StandardCharsets.UTF_8);
            largest = Math.max(largest, written.length);
            assertThat(written.length).isLessThanOrEqualTo(HttpAnswer.LAMBDA_RESPONSE_LIMIT);
            Response response = Response.read(written);
            assertThat(response.status()).isEqualTo(200);
            // the hanging call ends at the cut-off: timed out by the engine, or by its own attempt's time
            // limit, which the handler caps at the same instant (a retryable failure)
            JsonNode hanging = response.results().get(500);
            assertThat(hanging.get("status").asText()).isIn("timed_out", "failed");
            assertThat(hanging.at("/error/retryable").asBoolean()).isTrue();
            assertThat(response.body().at("/summary/outputDropped").asInt()).isPositive();
            JsonNode summary = response.body().get("summary");
            assertThat(summary.get("succeeded").asInt() + summary.get("failed").asInt() + summary.get("timedOut").asInt())
                    .isEqualTo(1_000);
            assertThat(margin).as("run %d: answered %d ms before the deadline", run, margin).isNotNegative();
        }
        System.out.printf("late-answer case, %d runs at a 5 s timeout: margins before the deadline %s ms, least %d ms;"
                + " largest answer %,d bytes of %,d%n", RUNS, margins, margins.stream().mapToLong(Long::longValue).min()
                .orElseThrow(), largest, HttpAnswer.LAMBDA_RESPONSE_LIMIT);
        // the default margin for the 1,024 MB the function is given here (TimeBudget), not measured at start
        assertThat(function.log()).contains("HTTP cut-off margin 1657 ms (derived for a 6291556-byte answer at 1024 MB)");
    }
}
