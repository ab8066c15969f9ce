package dev.fanout.work;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.engine.Batch;
import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.WorkerPool;
import dev.fanout.work.builtin.DelayHandler;
import dev.fanout.work.builtin.DigestHandler;
import io.smallrye.mutiny.Uni;

class WorkHandlersTest {

    static final ObjectMapper MAPPER = new ObjectMapper();
    final ItemParser parser = new ItemParser(MAPPER, Optional.empty());

    BatchResult<JsonNode> run(WorkHandlers handlers, Limits limits, Duration deadline, String... bodies) {
        List<ParsedItem> items = new java.util.ArrayList<>();
        for (int i = 0; i < bodies.length; i++) {
            items.add(parser.parse(bodies[i], "m-" + i, Optional.empty()));
        }
        return new WorkerPool(limits).run(Batch.of(items), handlers.dispatcher(), Deadline.after(deadline));
    }

    BatchResult<JsonNode> run(WorkHandlers handlers, String... bodies) {
        return run(handlers, Limits.of(8), Duration.ofSeconds(30), bodies);
    }

    static String reason(Outcome<JsonNode> outcome) {
        return ((Outcome.Rejected<JsonNode>) outcome).reason();
    }

    static JsonNode value(Outcome<JsonNode> outcome) {
        return ((Outcome.Succeeded<JsonNode>) outcome).value();
    }

    @Nested
    class Registry {

        @Test
        void unknownTypesAndMalformedItemsAreRejected() {
            var handlers = WorkHandlers.builder(MAPPER).register("b", ctx -> "b").register("a", ctx -> "a").build();
            var result = run(handlers, "{\"type\":\"zzz\"}", "{oops", "{\"type\":\"a\"}");
            assertThat(reason(result.outcome(0))).isEqualTo("unknown item type 'zzz' (known types: a, b)");
            assertThat(reason(result.outcome(1))).startsWith("item is not valid JSON");
            assertThat(value(result.outcome(2)).asText()).isEqualTo("a");
        }

        @Test
        void twoHandlersForOneTypeAreRefused() {
            var builder = WorkHandlers.builder(MAPPER).register("a", ctx -> 1);
            assertThatThrownBy(() -> builder.register("a", ctx -> 2)).hasMessage("two handlers for item type 'a'");
            assertThatThrownBy(() -> builder.register(" ", ctx -> 2))
                    .hasMessage("a handler's item type must be a non-empty name");
        }

        @Test
        void outputsBecomeJson() {
            record Point(int x, int y) {
            }
            var handlers = WorkHandlers.builder(MAPPER).register("point", ctx -> new Point(1, 2))
                    .register("nothing", ctx -> null).register("map", ctx -> Map.of("k", List.of(1, 2))).build();
            var result = run(handlers, "{\"type\":\"point\"}", "{\"type\":\"nothing\"}", "{\"type\":\"map\"}");
            assertThat(value(result.outcome(0)).toString()).isEqualTo("{\"x\":1,\"y\":2}");
            assertThat(value(result.outcome(1)).isNull()).isTrue();
            assertThat(value(result.outcome(2)).toString()).isEqualTo("{\"k\":[1,2]}");
        }

        @Test
        void asyncHandlersRunAndAreCancelledAtTheCutOff() throws Exception {
            var cancelled = new CountDownLatch(1);
            var handlers = WorkHandlers.builder(MAPPER)
                    .registerAsync("later", ctx -> Uni.createFrom().item("done").onItem().delayIt().by(Duration.ofMillis(5)))
                    .registerAsync("never", ctx -> Uni.createFrom().emitter(e -> {
                    }).onCancellation().invoke(cancelled::countDown))
                    .registerAsync("broken", ctx -> null)
                    .build();
            var result = run(handlers, Limits.of(4).withCutoffMargin(Duration.ofMillis(200))
                    .withCancelGrace(Duration.ofMillis(100)), Duration.ofMillis(700),
                    "{\"type\":\"later\"}", "{\"type\":\"never\"}", "{\"type\":\"broken\"}");
            assertThat(value(result.outcome(0)).asText()).isEqualTo("done");
            assertThat(result.outcome(1).status()).isEqualTo(Outcome.Status.TIMED_OUT);
            assertThat(cancelled.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(((Outcome.Failed<JsonNode>) result.outcome(2)).error())
                    .hasMessage("handler of 'broken' returned null instead of a Uni");
        }
    }

    @Nested
    class Payloads {

        record Input(String name, Integer count, List<String> tags) {
        }

        final WorkHandlers handlers = WorkHandlers.builder(MAPPER)
                .register("bind", ctx -> ctx.payload(Input.class)).build();

        @Test
        void aMismatchedPayloadIsRejectedWithAPreciseReason() {
            var result = run(handlers,
                    "{\"type\":\"bind\",\"payload\":{\"name\":\"n\",\"count\":2,\"tags\":[\"t\"]}}",
                    "{\"type\":\"bind\",\"payload\":{\"nam\":\"n\"}}",
                    "{\"type\":\"bind\",\"payload\":{\"count\":\"many\"}}",
                    "{\"type\":\"bind\",\"payload\":{\"tags\":{\"a\":1}}}",
                    "{\"type\":\"bind\",\"payload\":[1]}",
                    "{\"type\":\"bind\"}");
            assertThat(value(result.outcome(0)).get("count").asInt()).isEqualTo(2);
            assertThat(reason(result.outcome(1))).isEqualTo("'bind' payload: unknown field 'nam'");
            assertThat(reason(result.outcome(2))).isEqualTo("'bind' payload: field 'count' has an invalid value: many");
            assertThat(reason(result.outcome(3))).isEqualTo("'bind' payload: field 'tags' must be an array");
            assertThat(reason(result.outcome(4))).isEqualTo("'bind' payload: must be an object");
            assertThat(reason(result.outcome(5))).isEqualTo("'bind' payload: missing");
        }
    }

    @Nested
    class Builtins {

        final WorkHandlers handlers = WorkHandlers.builder(MAPPER)
                .register(DigestHandler.TYPE, new DigestHandler(5_000))
                .register(DelayHandler.TYPE, new DelayHandler(Duration.ofSeconds(60))).build();

        @Test
        void digestHashesRoundsTimes() throws Exception {
            var result = run(handlers, "{\"type\":\"digest\",\"payload\":{\"data\":\"abc\"}}",
                    "{\"type\":\"digest\",\"payload\":{\"data\":\"abc\",\"rounds\":2}}",
                    "{\"type\":\"digest\",\"payload\":{\"data\":\"abc\",\"rounds\":5001}}",
                    "{\"type\":\"digest\",\"payload\":{\"rounds\":2}}");
            // SHA-256("abc") from FIPS 180-2
            assertThat(value(result.outcome(0)).get("sha256").asText())
                    .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
            var once = java.security.MessageDigest.getInstance("SHA-256").digest("abc".getBytes());
            var twice = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(once));
            assertThat(value(result.outcome(1)).get("sha256").asText()).isEqualTo(twice);
            assertThat(reason(result.outcome(2))).isEqualTo("field 'rounds' must be between 1 and 5000, was 5001");
            assertThat(reason(result.outcome(3))).isEqualTo("'digest' payload: field 'data' is required");
        }

        @Test
        void aLongDigestStopsAtTheCutOff() {
            var big = WorkHandlers.builder(MAPPER).register(DigestHandler.TYPE, new DigestHandler(Integer.MAX_VALUE)).build();
            // cut-off after 300 ms; then up to 1.2 s (a busy machine's worth) for the digest to notice
            var result = run(big, Limits.of(1).withCutoffMargin(Duration.ofMillis(1200)).withCancelGrace(Duration.ofMillis(1200)),
                    Duration.ofMillis(1500), "{\"type\":\"digest\",\"payload\":{\"data\":\"x\",\"rounds\":2000000000}}");
            assertThat(result.outcome(0).status()).isEqualTo(Outcome.Status.TIMED_OUT);
            assertThat(result.summary().abandoned()).isZero(); // it checked its cancellation and stopped
        }

        @Test
        void aDelayThatIgnoresCancellationIsAbandonedAtTheCutOffAndSleepsOnWithoutSpinning() throws Exception {
            var itemThread = new java.util.concurrent.atomic.AtomicReference<Thread>();
            var delay = new DelayHandler(Duration.ofSeconds(60));
            var probed = WorkHandlers.builder(MAPPER).register(DelayHandler.TYPE, context -> {
                itemThread.set(Thread.currentThread());
                return delay.handle(context);
            }).build();
            // cut-off after 300 ms, 100 ms of grace; the item sleeps 3 s whatever happens
            var result = run(probed, Limits.of(1).withCutoffMargin(Duration.ofMillis(1200)).withCancelGrace(Duration.ofMillis(100)),
                    Duration.ofMillis(1500), "{\"type\":\"delay\",\"payload\":{\"millis\":3000,\"ignoreCancellation\":true}}");

            assertThat(result.outcome(0).status()).isEqualTo(Outcome.Status.TIMED_OUT);
            assertThat(result.summary().abandoned()).isEqualTo(1);
            // interrupted, yet asleep: a handler that parked again with the flag still set would spin (RUNNABLE)
            Thread item = itemThread.get();
            assertThat(item.isAlive()).isTrue();
            assertThat(item.getState()).isEqualTo(Thread.State.TIMED_WAITING);
            item.join(Duration.ofSeconds(10));
            assertThat(item.isAlive()).isFalse();
        }

        @Test
        void delayWaitsAndFailsOnDemand() {
            var result = run(handlers, "{\"type\":\"delay\",\"payload\":{\"millis\":3}}",
                    "{\"type\":\"delay\",\"payload\":{\"failRate\":1}}",
                    "{\"type\":\"delay\",\"payload\":{\"failRate\":1,\"permanent\":true}}",
                    "{\"type\":\"delay\",\"payload\":{\"millis\":-1}}",
                    "{\"type\":\"delay\",\"payload\":{\"failRate\":1.5}}");
            assertThat(value(result.outcome(0)).get("sleptMillis").asInt()).isEqualTo(3);
            assertThat(((Outcome.Failed<JsonNode>) result.outcome(1)).retryable()).isTrue();
            assertThat(((Outcome.Failed<JsonNode>) result.outcome(2)).retryable()).isFalse();
            assertThat(reason(result.outcome(3))).isEqualTo("field 'millis' must be between 0 and 60000, was -1");
            assertThat(reason(result.outcome(4))).isEqualTo("field 'failRate' must be between 0 and 1, was 1.5");
        }
    }
}
