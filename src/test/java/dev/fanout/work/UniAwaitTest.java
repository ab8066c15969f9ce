package dev.fanout.work;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.engine.Batch;
import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Cancellation.Cause;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.ItemContext;
import dev.fanout.engine.ItemHandler;
import dev.fanout.engine.Limits;
import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.Outcome.Failed;
import dev.fanout.engine.Outcome.Rejected;
import dev.fanout.engine.Outcome.Succeeded;
import dev.fanout.engine.Outcome.TimedOut;
import dev.fanout.engine.RejectedItemException;
import dev.fanout.engine.WorkerPool;
import dev.fanout.testing.TestFunctions;
import io.smallrye.mutiny.Uni;

/**
 * Unis on the one-shape engine: the item's thread waits for its Uni, holds its slot meanwhile, and its
 * cancellation cancels the subscription. (These tests ran on the engine's former Uni path; their
 * assertions are unchanged.)
 */
class UniAwaitTest {

    interface UniHandler<I, R> {
        Uni<R> handle(ItemContext<I> context) throws Exception;
    }

    /** A blocking engine handler that waits for the Uni of {@code handler}, as the work layer does. */
    static <I, R> ItemHandler<I, R> awaiting(UniHandler<I, R> handler) {
        return ctx -> UniAwait.await(handler.handle(ctx), ctx.cancellation());
    }

    static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    @Test
    void successAndFailureOfUnis() {
        BatchResult<String> result = new WorkerPool(Limits.of(3)).run(
                Batch.of(List.of("now", "later", "retry", "never-again", "malformed")),
                awaiting(ctx -> switch (ctx.item()) {
                    case "now" -> Uni.createFrom().item("now!");
                    case "later" -> Uni.createFrom().item("later!").onItem().delayIt().by(Duration.ofMillis(20));
                    case "retry" -> Uni.createFrom().failure(new java.io.IOException("socket closed"));
                    case "never-again" -> Uni.createFrom().failure(new NonRetryableException("404"));
                    default -> Uni.createFrom().failure(new RejectedItemException("no url"));
                }), Deadline.after(Duration.ofSeconds(30)));

        assertThat(((Succeeded<String>) result.outcome(0)).value()).isEqualTo("now!");
        assertThat(((Succeeded<String>) result.outcome(1)).value()).isEqualTo("later!");
        assertThat(((Failed<String>) result.outcome(2)).retryable()).isTrue();
        assertThat(((Failed<String>) result.outcome(3)).retryable()).isFalse();
        assertThat(((Rejected<String>) result.outcome(4)).reason()).isEqualTo("no url");
    }

    @Test
    void aUniThatNeverCompletesIsCancelledAtTheCutOff() throws Exception {
        var cancelled = new CountDownLatch(1);
        // cut-off at 500 ms, then up to 1.5 s for the cancellation to reach the Uni
        BatchResult<String> result = new WorkerPool(Limits.of(2).withCutoffMargin(Duration.ofMillis(1500))
                .withCancelGrace(Duration.ofMillis(1500))).run(
                Batch.of(List.of("hang", "ok")),
                awaiting(ctx -> ctx.item().equals("ok") ? Uni.createFrom().item("ok")
                        : Uni.createFrom().<String> emitter(emitter -> {
                        }).onCancellation().invoke(cancelled::countDown)),
                Deadline.after(Duration.ofMillis(2000)));

        assertThat(result.outcome(0)).isInstanceOfSatisfying(TimedOut.class,
                t -> assertThat(t.cause()).isEqualTo(Cause.CUT_OFF));
        assertThat(result.outcome(1)).isInstanceOf(Succeeded.class);
        assertThat(cancelled.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(result.summary().abandoned()).isZero();
    }

    @Test
    void pendingUnisCountAgainstTheLimit() {
        var active = new AtomicInteger();
        var maxActive = new AtomicInteger();
        BatchResult<Integer> result = new WorkerPool(Limits.of(4)).run(Batch.of(range(200)),
                awaiting(ctx -> {
                    maxActive.accumulateAndGet(active.incrementAndGet(), Math::max);
                    return Uni.createFrom().item(ctx.index()).onItem().delayIt().by(Duration.ofMillis(1))
                            .onTermination().invoke(active::decrementAndGet);
                }), Deadline.after(Duration.ofMinutes(1)));
        assertThat(result.summary().succeeded()).isEqualTo(200);
        assertThat(maxActive.get()).isBetween(1, 4);
        assertThat(result.summary().peakConcurrency()).isEqualTo(4);
    }

    @Test
    void aNeverCompletingUniIsCancelledAtItsTimeoutAndFreesItsSlotForTheNextItem() throws Exception {
        var cancelled = new CountDownLatch(1);
        // one slot: the second item can only run once the first one's Uni is cancelled and its thread is back
        BatchResult<String> result = new WorkerPool(Limits.of(1).withItemTimeout(Duration.ofMillis(100))).run(
                Batch.of(List.of("hang", "ok")),
                awaiting(ctx -> ctx.item().equals("ok") ? Uni.createFrom().item("ok")
                        : Uni.createFrom().<String> emitter(emitter -> {
                        }).onCancellation().invoke(cancelled::countDown)),
                Deadline.after(Duration.ofMinutes(1)));

        assertThat(cancelled.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(result.outcome(0)).isInstanceOfSatisfying(TimedOut.class,
                t -> assertThat(t.cause()).isEqualTo(Cause.ITEM_TIMEOUT));
        assertThat(((Succeeded<String>) result.outcome(1)).value()).isEqualTo("ok");
        assertThat(result.summary().abandoned()).isZero();
        assertThat(result.summary().peakConcurrency()).isEqualTo(1);
    }

    @Test
    void aGroupHandsOverOnlyWhenItsItemHasLeftItsSlotSoPeakConcurrencyCountsOne() {
        // item 0 completes inside subscribe() on its own thread, then lingers there: before the fix its group's
        // next item started in that window and the peak read 2 for a group that never runs two items at once
        var nextStarted = new CountDownLatch(1);
        var startedWhileLingering = new AtomicInteger(-1);
        BatchResult<Integer> result = new WorkerPool(Limits.of(8)).run(
                Batch.fifo(range(3), i -> "one-group"),
                awaiting(ctx -> {
                    if (ctx.index() > 0) {
                        nextStarted.countDown();
                        return Uni.createFrom().item(ctx.index());
                    }
                    return Uni.createFrom().<Integer> emitter(emitter -> {
                        emitter.complete(0);
                        try {
                            startedWhileLingering.set(nextStarted.await(1, TimeUnit.SECONDS) ? 1 : 0);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                }), Deadline.after(Duration.ofMinutes(1)));

        assertThat(result.summary().succeeded()).isEqualTo(3);
        assertThat(startedWhileLingering).hasValue(0);
        assertThat(result.summary().peakConcurrency()).isEqualTo(1);
    }

    @Test
    void aBlockingWorkHandlerRunsOnTheItemThreadWithoutMutinyAndAnAsyncOneThroughIt() throws Exception {
        Set<String> blockingFrames = ConcurrentHashMap.newKeySet();
        Set<String> asyncFrames = ConcurrentHashMap.newKeySet();
        var handlers = TestFunctions.builder(new ObjectMapper())
                .register("plain", (payload, ctx) -> {
                    StackWalker.getInstance().forEach(f -> blockingFrames.add(f.getClassName()));
                    return "plain";
                })
                .registerAsync("uni", (payload, ctx) -> Uni.createFrom().item(() -> {
                    StackWalker.getInstance().forEach(f -> asyncFrames.add(f.getClassName()));
                    return "uni";
                }))
                .build();
        var parser = new ItemParser(new ObjectMapper(), java.util.Optional.empty());
        List<ParsedItem> items = List.of(parser.parse("{\"type\":\"plain\",\"payload\":{}}", "0", java.util.Optional.empty()),
                parser.parse("{\"type\":\"uni\",\"payload\":{}}", "1", java.util.Optional.empty()));

        BatchResult<JsonNode> result = new WorkerPool(Limits.of(2)).run(Batch.of(items), handlers.dispatcher(),
                Deadline.after(Duration.ofMinutes(1)));

        assertThat(((Succeeded<JsonNode>) result.outcome(0)).value().asText()).isEqualTo("plain");
        assertThat(((Succeeded<JsonNode>) result.outcome(1)).value().asText()).isEqualTo("uni");
        assertThat(blockingFrames).isNotEmpty().noneMatch(name -> name.startsWith("io.smallrye.mutiny"));
        // called directly, the engine handler hands back the blocking handler's JSON itself, not a Uni of it
        Object direct = handlers.dispatcher().handle(new ItemContext<>(items.get(0), 0,
                Deadline.after(Duration.ofMinutes(1)), new dev.fanout.engine.Cancellation()));
        assertThat(direct).isInstanceOf(JsonNode.class).hasToString("\"plain\"");
        // the probe sees Mutiny where it is: the async handler's item is produced inside a subscription
        assertThat(asyncFrames).anyMatch(name -> name.startsWith("io.smallrye.mutiny"));
    }
}
