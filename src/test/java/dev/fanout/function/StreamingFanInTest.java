package dev.fanout.function;

import static dev.fanout.function.SqsBatchProcessorTest.MAPPER;
import static dev.fanout.function.SqsBatchProcessorTest.assertPromiseKept;
import static dev.fanout.function.SqsBatchProcessorTest.failedIds;
import static dev.fanout.function.SqsBatchProcessorTest.resultsBySource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;

import dev.fanout.testing.FanoutSettings;
import dev.fanout.batch.RecordBatch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.FaultySqsClient;
import dev.fanout.testing.SqsEvents;
import dev.fanout.work.ItemParser;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

/** Fan-in streams: a record's result goes to the results queue as soon as its outcome is final. */
class StreamingFanInTest {

    static final ElasticMq sqs = ElasticMq.shared();

    /** "wait": sleeps {@code millis}, then returns {@code text}; "latch": waits for the test's latch. */
    static ItemFunctions handlers(CountDownLatch latch) {
        return TestFunctions.builder(MAPPER)
                .register("wait", (payload, context) -> {
                    Thread.sleep(payload.path("millis").asLong());
                    return Map.of("text", payload.path("text").asText());
                })
                .register("latch", (payload, context) -> {
                    latch.await();
                    return Map.of("text", "released");
                })
                .build();
    }

    static SqsBatchProcessor processor(SqsClient client, String queueUrl, Limits limits, int sendConcurrency,
            ItemFunctions handlers) {
        var defaults = FanoutSettings.results(queueUrl);
        var sinkSettings = new SqsResultsSink.Settings(queueUrl, defaults.maxMessageBytes(), defaults.maxBatchBytes(),
                sendConcurrency, defaults.maxAttempts(), defaults.backoffBase(), defaults.backoffCap(),
                defaults.minCallTime());
        return new SqsBatchProcessor(new RecordBatch(new WorkerPool(limits), handlers, new ItemParser(MAPPER, Optional.empty()),
                new SqsResultsSink(client, sinkSettings), MAPPER,
                new RecordBatch.Settings(Duration.ofMillis(100), sinkSettings.fifo())));
    }

    static String waitItem(long millis, String text) {
        return SqsEvents.item("wait", "{\"millis\":" + millis + ",\"text\":\"" + text + "\"}");
    }

    @Test
    void resultsAreOnTheQueueBeforeTheLastItemEnds() throws Exception {
        String queue = sqs.createQueue("streaming-latch");
        var latch = new CountDownLatch(1);
        int n = 60;
        // items end over three seconds; the last one ends only when the test has read the others' results
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < n - 1; i++) {
            bodies.add(waitItem(i * 50L, "t" + i));
        }
        bodies.add(SqsEvents.item("latch", "{}"));
        var processor = processor(sqs.client(), queue, Limits.of(64).withCutoffMargin(Duration.ofSeconds(1)), 4,
                handlers(latch));

        var invocation = CompletableFuture.supplyAsync(() -> processor.process(SqsEvents.parse(SqsEvents.standard(bodies)),
                Deadline.after(Duration.ofSeconds(60))));
        Map<String, JsonNode> seen = new HashMap<>();
        long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (seen.size() < n - 1 && System.nanoTime() < giveUpAt) {
            seen.putAll(resultsBySource(sqs.drain(queue)));
        }
        // read from the queue while the last item still waits: the batch is still running
        assertThat(invocation).isNotDone();
        assertThat(seen.keySet()).containsExactlyInAnyOrderElementsOf(
                IntStream.range(0, n - 1).mapToObj(i -> "m-" + i).toList());
        assertThat(seen.get("m-7").at("/output/text").asText()).isEqualTo("t7");
        latch.countDown();

        var done = invocation.get(30, TimeUnit.SECONDS);
        assertThat(done.response().getBatchItemFailures()).isEmpty();
        Map<String, JsonNode> last = resultsBySource(sqs.drain(queue));
        assertThat(last.keySet()).containsExactly("m-" + (n - 1));
        assertThat(last.get("m-" + (n - 1)).at("/output/text").asText()).isEqualTo("released");
        assertThat(done.summary().get("delivered").asInt()).isEqualTo(n);
    }

    /** Answers requests whose entries hold {@code marker} only when interrupted; records every entry it saw. */
    static final class HangingClient implements SqsClient {
        final SqsClient delegate;
        final String marker;
        final ConcurrentLinkedQueue<String> bodiesSent = new ConcurrentLinkedQueue<>();

        HangingClient(SqsClient delegate, String marker) {
            this.delegate = delegate;
            this.marker = marker;
        }

        @Override
        public String serviceName() {
            return delegate.serviceName();
        }

        @Override
        public void close() {
        }

        @Override
        public SendMessageBatchResponse sendMessageBatch(SendMessageBatchRequest request) {
            request.entries().stream().map(SendMessageBatchRequestEntry::messageBody).forEach(bodiesSent::add);
            if (request.entries().stream().anyMatch(e -> e.messageBody().contains(marker))) {
                try {
                    new CountDownLatch(1).await(); // the queue never answers
                } catch (InterruptedException e) {
                    throw software.amazon.awssdk.core.exception.AbortedException.create("interrupted");
                }
            }
            return delegate.sendMessageBatch(request);
        }
    }

    @Test
    void atTheCutOffUnsentResultsAreHandedBackAndSentOnesAcknowledged() {
        String queue = sqs.createQueue("streaming-cutoff");
        var client = new HangingClient(sqs.client(), "hang-");
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            bodies.add(waitItem(0, "early-" + i)); // confirmed at once
        }
        bodies.add(waitItem(300, "hang-10")); // its request never gets an answer and holds the one send slot
        for (int i = 11; i < 20; i++) {
            bodies.add(waitItem(600, "late-" + i)); // final, but never sent: the slot stays taken
        }
        bodies.add(waitItem(60_000, "cut-20")); // still running at the cut-off
        var processor = processor(client, queue, Limits.of(32).withCutoffMargin(Duration.ofSeconds(2)), 1,
                handlers(new CountDownLatch(0)));
        var deadline = Deadline.after(Duration.ofSeconds(4));

        var invocation = processor.process(SqsEvents.parse(SqsEvents.standard(bodies)), deadline);

        assertThat(deadline.remainingNanos()).as("answered before the deadline").isPositive();
        List<String> handedBack = IntStream.range(10, 21).mapToObj(i -> "m-" + i).toList();
        assertThat(failedIds(invocation.response())).containsExactlyInAnyOrderElementsOf(handedBack);
        assertThat(resultsBySource(sqs.drain(queue)).keySet()).containsExactlyInAnyOrderElementsOf(
                IntStream.range(0, 10).mapToObj(i -> "m-" + i).toList());
        // the late results were final, and never left: the unsent tail
        assertThat(client.bodiesSent).noneMatch(body -> body.contains("late-") || body.contains("cut-"));
        assertThat(invocation.summary().get("results").asInt()).isEqualTo(20);
        assertThat(invocation.summary().get("timedOut").asInt()).isEqualTo(1);
    }

    /**
     * A message id that repeats in a batch (a standard queue may deliver a message twice): on a FIFO results
     * queue both copies share the id's group, so the second copy's result waits for the first one's. When the
     * first copy comes back (not final, so it never has a result), nothing can release the second: it is held
     * back when the batch ends, and the invocation answers then, not at its deadline two minutes later.
     */
    @Test
    void aResultWaitingForAPredecessorThatNeverCameIsHeldBackWhenTheBatchEnds() {
        String queue = sqs.createQueue("streaming-repeated-id.fifo");
        var handlers = TestFunctions.builder(MAPPER)
                .register("comes-back", (payload, context) -> {
                    throw new IllegalStateException("retryable: this copy comes back");
                })
                .register("succeeds", (payload, context) -> Map.of("text", "second copy"))
                .build();
        var event = SqsEvents.parse(SqsEvents.standard(List.of(SqsEvents.item("comes-back", "{}"),
                SqsEvents.item("succeeds", "{}"))));
        event.getRecords().get(1).setMessageId("m-0");
        var processor = processor(sqs.client(), queue, Limits.of(8).withCutoffMargin(Duration.ofSeconds(1)), 4,
                handlers);
        var deadline = Deadline.after(Duration.ofMinutes(2));

        var invocation = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> processor.process(event, deadline),
                "the answer waited for a result that could never be released");

        assertThat(failedIds(invocation.response())).containsExactly("m-0");
        assertThat(sqs.drain(queue)).isEmpty();
        assertThat(invocation.summary().get("delivered").asInt()).isZero();
    }

    @ParameterizedTest
    @ValueSource(longs = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 })
    void underFaultsWhileItemsStillRunAnAcknowledgedRecordIsOnTheQueueAndGroupsKeepTheirOrder(long seed) {
        var random = new Random(seed);
        boolean fifo = seed % 2 == 0;
        String queue = sqs.createQueue("streaming-faults-" + seed + (fifo ? ".fifo" : ""));
        // failed entries, 5xx, throttles, sender faults, lost answers and slow answers (up to 20 ms)
        var faults = new FaultySqsClient.Faults(random.nextInt(30), random.nextInt(30), random.nextInt(40),
                random.nextInt(50), random.nextInt(20), random.nextInt(20_000), random.nextInt(10));
        var client = new FaultySqsClient(sqs.client(), faults, seed);
        int n = 50 + random.nextInt(150);
        List<String> bodies = new ArrayList<>();
        List<String> groups = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            // items end over about a second or two, so results stream while others still run (a FIFO group's items
            // run one after another: shorter ones)
            bodies.add(random.nextInt(12) == 0 ? "{not json" : waitItem(random.nextInt(20) * (fifo ? 5L : 25L), "r" + i));
            groups.add("g" + random.nextInt(5));
        }
        String json = fifo ? SqsEvents.fifo(bodies, groups) : SqsEvents.standard(bodies);
        var processor = processor(client, queue, Limits.of(64).withCutoffMargin(Duration.ofSeconds(3)),
                1 + random.nextInt(8), handlers(new CountDownLatch(0)));

        var invocation = processor.process(SqsEvents.parse(json), Deadline.after(Duration.ofSeconds(9)));

        assertPromiseKept(invocation, sqs.drain(queue), groups, fifo, faults);
        assertThat(invocation.summary().get("succeeded").asInt() + invocation.summary().get("rejected").asInt())
                .isEqualTo(n);
    }
}
