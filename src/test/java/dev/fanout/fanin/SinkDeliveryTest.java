package dev.fanout.fanin;

import static dev.fanout.fanin.SqsResultsSinkTest.intercepted;
import static dev.fanout.fanin.SqsResultsSinkTest.message;
import static dev.fanout.fanin.SqsResultsSinkTest.refusingEntries;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import dev.fanout.engine.Deadline;
import dev.fanout.engine.ManualTicker;
import dev.fanout.engine.Ticker;
import dev.fanout.testing.ElasticMq;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SqsException;

/**
 * One delivery ({@link ResultsSink#deliver}) against ElasticMQ, with exact faults in front of it: how results
 * are packed, which ids come back, how failures in a row are counted, and what the deadline and the minimum
 * call time leave out.
 */
class SinkDeliveryTest {

    static final ElasticMq sqs = ElasticMq.shared();

    static List<ResultMessage> messages(int n) {
        List<ResultMessage> messages = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            messages.add(message(String.format("r%02d", i), null));
        }
        return messages;
    }

    static SqsResultsSink.Settings settings(String queue, int maxBatchBytes, int sendConcurrency, int maxAttempts,
            Duration backoff) {
        return new SqsResultsSink.Settings(queue, maxBatchBytes, maxBatchBytes, sendConcurrency, maxAttempts, backoff,
                backoff, Duration.ofMillis(20));
    }

    static List<String> bodies(SendMessageBatchRequest request) {
        return request.entries().stream().map(SendMessageBatchRequestEntry::messageBody).toList();
    }

    static SdkClientException connectionRefused() {
        return SdkClientException.create("Unable to execute HTTP request", new ConnectException("Connection refused"));
    }

    static SqsException serviceError(int status, String code) {
        return (SqsException) SqsException.builder().statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage("injected").build()).build();
    }

    @Test
    void eachDeliveredResultHasTheIdTheQueueGaveItAndAFailedOneNone() {
        String queue = sqs.createQueue("deliver-ids");
        var sink = new SqsResultsSink(intercepted(sqs, refusingEntries("r01", false, "InternalError")),
                settings(queue, SqsResultsSink.SQS_MAX_BYTES, 4, 1, Duration.ofMillis(1)));

        Delivery delivery = sink.deliver(messages(3), Deadline.after(Duration.ofSeconds(10)));

        List<Message> onQueue = sqs.drain(queue);
        assertThat(onQueue).extracting(Message::body).containsExactlyInAnyOrder("r00", "r02");
        for (Message m : onQueue) {
            assertThat(delivery.messageId(Integer.parseInt(m.body().substring(1)))).isEqualTo(m.messageId());
        }
        assertThat(delivery.messageId(1)).isNull();
        assertThat(delivery.failures().get(1)).isEqualTo("gave up after 1 attempt: SQS refused the entry: InternalError injected");
    }

    @Test
    void requestsFillUpToTheBatchByteLimitExactlyAndSpreadOverTheSenders() {
        String queue = sqs.createQueue("deliver-packing");
        var requests = new ConcurrentLinkedQueue<List<String>>();
        // 24-byte results, 72 bytes a request: three fit exactly; eight make requests of 3, 3 and 2
        var sink = new SqsResultsSink(intercepted(sqs, (request, real) -> {
            requests.add(bodies(request));
            return real.sendMessageBatch(request);
        }), settings(queue, 72, 4, 1, Duration.ofMillis(1)));

        Delivery delivery = sink.deliver(messages(8), Deadline.after(Duration.ofSeconds(10)));

        assertThat(delivery.deliveredCount()).isEqualTo(8);
        assertThat(requests).containsExactlyInAnyOrder(List.of("r00", "r01", "r02"), List.of("r03", "r04", "r05"),
                List.of("r06", "r07"));
        assertThat(sqs.drain(queue)).hasSize(8);
    }

    @Test
    void deliverWaitsForEverySenderNotOnlyTheFirstToEnd() throws Exception {
        // two senders, one request each. The second sender's request is answered only once the caller has read
        // its deadline after the first sender ended, which it does to go on waiting for the second; a caller that
        // stopped waiting once the first sender ended would interrupt the second, and its result would be lost
        String queue = sqs.createQueue("deliver-every-sender");
        Thread caller = Thread.currentThread();
        var first = new AtomicReference<Thread>();
        var secondArrived = new CountDownLatch(1);
        var callerReadAfterFirstEnded = new CountDownLatch(1);
        Ticker ticker = () -> {
            Thread ended = first.get();
            if (Thread.currentThread() == caller && ended != null && !ended.isAlive()) {
                callerReadAfterFirstEnded.countDown();
            }
            return System.nanoTime();
        };
        var sink = new SqsResultsSink(intercepted(sqs, (request, real) -> {
            try {
                if (Thread.currentThread().getName().equals("fanout-send-0")) {
                    first.set(Thread.currentThread());
                    assertThat(secondArrived.await(10, TimeUnit.SECONDS)).isTrue(); // each sender takes one request
                } else {
                    secondArrived.countDown();
                    if (!callerReadAfterFirstEnded.await(10, TimeUnit.SECONDS)) {
                        throw SdkClientException.create("the caller never went on waiting");
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw AbortedException.create("interrupted while sending", e);
            }
            return real.sendMessageBatch(request);
        }), settings(queue, 24, 2, 1, Duration.ofMillis(1)));

        Delivery delivery = sink.deliver(messages(2), Deadline.after(Duration.ofSeconds(20), ticker));

        assertThat(delivery.deliveredCount()).isEqualTo(2);
        assertThat(sqs.drain(queue)).hasSize(2);
    }

    @Test
    void fifoRoundsSendEachGroupsEarliestResultInRecordOrder() {
        String queue = sqs.createQueue("deliver-rounds.fifo");
        var requests = new ConcurrentLinkedQueue<List<String>>();
        var sink = new SqsResultsSink(intercepted(sqs, (request, real) -> {
            requests.add(bodies(request));
            return real.sendMessageBatch(request);
        }), settings(queue, SqsResultsSink.SQS_MAX_BYTES, 4, 1, Duration.ofMillis(1)));
        // groups: a b b a  -> round 1: a0 b1; round 2: b2 a3 (b's next comes first in record order)
        List<ResultMessage> messages = List.of(message("a0", "a"), message("b1", "b"), message("b2", "b"),
                message("a3", "a"));

        Delivery delivery = sink.deliver(messages, Deadline.after(Duration.ofSeconds(10)));

        assertThat(delivery.deliveredCount()).isEqualTo(4);
        assertThat(requests).containsExactly(List.of("a0", "b1"), List.of("b2", "a3"));
    }

    @Test
    void connectionFailuresCountOnlyInARow() {
        String queue = sqs.createQueue("deliver-in-a-row");
        // one sender, three requests of ten; before each request goes through, two connection failures, and once
        // a throttle between them: never three in a row, so the queue is never given up as unreachable
        var calls = new AtomicInteger();
        var sink = new SqsResultsSink(intercepted(sqs, (request, real) -> {
            int call = calls.incrementAndGet();
            switch (call) {
                case 1, 2, 4, 6, 7, 9, 10 -> throw connectionRefused();
                case 5 -> throw serviceError(400, "ThrottlingException");
                default -> {
                    return real.sendMessageBatch(request);
                }
            }
        }), settings(queue, SqsResultsSink.SQS_MAX_BYTES, 1, 5, Duration.ofMillis(1)));

        Delivery delivery = sink.deliver(messages(30), Deadline.after(Duration.ofSeconds(20)));

        // 1 2 [3 ok] 4 (5 throttled) 6 7 [8 ok] 9 10 [11 ok]
        assertThat(delivery.unreachable()).isFalse();
        assertThat(delivery.deliveredCount()).isEqualTo(30);
        assertThat(delivery.requests()).isEqualTo(11);
        assertThat(delivery.retries()).isEqualTo(8);
        assertThat(delivery.throttled()).isEqualTo(1);
    }

    @Test
    void throttledEntriesAreCountedAndRetried() {
        String queue = sqs.createQueue("deliver-throttled-entries");
        var calls = new AtomicInteger();
        var sink = new SqsResultsSink(intercepted(sqs, (request, real) -> {
            if (calls.incrementAndGet() == 1) {
                return SendMessageBatchResponse.builder().failed(request.entries().stream().map(e -> BatchResultErrorEntry
                        .builder().id(e.id()).senderFault(false).code("RequestThrottled").message("slow down").build())
                        .toList()).build();
            }
            return real.sendMessageBatch(request);
        }), settings(queue, SqsResultsSink.SQS_MAX_BYTES, 1, 3, Duration.ofMillis(1)));

        Delivery delivery = sink.deliver(messages(2), Deadline.after(Duration.ofSeconds(10)));

        assertThat(delivery.deliveredCount()).isEqualTo(2);
        assertThat(delivery.throttled()).isEqualTo(2);
        assertThat(delivery.requests()).isEqualTo(2);
    }

    @Test
    void aCallerFaultIsReportedForEveryResultAndNotRetried() {
        String queue = sqs.createQueue("deliver-denied");
        var calls = new AtomicInteger();
        var sink = new SqsResultsSink(intercepted(sqs, (request, real) -> {
            calls.incrementAndGet();
            throw serviceError(403, "AccessDenied");
        }), settings(queue, SqsResultsSink.SQS_MAX_BYTES, 1, 5, Duration.ofMillis(1)));

        Delivery delivery = sink.deliver(messages(2), Deadline.after(Duration.ofSeconds(10)));

        assertThat(delivery.failures()).containsOnly("SendMessageBatch failed: HTTP 403 AccessDenied: injected");
        assertThat(calls).hasValue(1);
        assertThat(delivery.throttled()).isZero();
    }

    @Test
    void withLessThanTheMinimumCallTimeLeftNothingIsSent() {
        var ticker = new ManualTicker();
        var calls = new AtomicInteger();
        var sink = new SqsResultsSink(intercepted(sqs, (request, real) -> {
            calls.incrementAndGet();
            return real.sendMessageBatch(request);
        }), settings(sqs.createQueue("deliver-no-time"), SqsResultsSink.SQS_MAX_BYTES, 1, 1, Duration.ofMillis(1)));

        Delivery delivery = sink.deliver(messages(2), Deadline.after(Duration.ofMillis(20).minusNanos(1), ticker));

        assertThat(delivery.failures()).containsOnly("no time left to send");
        assertThat(calls).hasValue(0);
    }

    @Test
    void exactlyTheMinimumCallTimeLeftIsEnoughForACallAndForARetry() {
        // the ticker stands still: 20 ms (the minimum call time) are left before each attempt; no pause
        var ticker = new ManualTicker();
        String queue = sqs.createQueue("deliver-just-in-time");
        var calls = new AtomicInteger();
        var sink = new SqsResultsSink(intercepted(sqs, (request, real) -> {
            if (calls.incrementAndGet() == 1) {
                throw serviceError(500, "InternalError");
            }
            // the call's own limit is the 20 ms left on the still ticker: the real queue gets the usual time
            return real.sendMessageBatch(request.toBuilder().overrideConfiguration(o -> o.apiCallTimeout(null)).build());
        }), settings(queue, SqsResultsSink.SQS_MAX_BYTES, 1, 2, Duration.ZERO));

        Delivery delivery = sink.deliver(messages(1), Deadline.after(Duration.ofMillis(20), ticker));

        assertThat(delivery.deliveredCount()).isEqualTo(1);
        assertThat(calls).hasValue(2);
    }

    @Test
    void aRetryWhosePauseWouldLeaveLessThanTheMinimumCallTimeIsNotMade() {
        // 20 ms and 1 ns left on a ticker that stands still; the pause before a retry is drawn up to 1 s
        var ticker = new ManualTicker();
        var calls = new AtomicInteger();
        var sink = new SqsResultsSink(intercepted(sqs, (request, real) -> {
            calls.incrementAndGet();
            throw serviceError(500, "InternalError");
        }), settings(sqs.createQueue("deliver-no-retry"), SqsResultsSink.SQS_MAX_BYTES, 1, 5, Duration.ofSeconds(1)));

        Delivery delivery = sink.deliver(messages(1), Deadline.after(Duration.ofMillis(20).plusNanos(1), ticker));

        assertThat(delivery.failures()).containsExactly(
                "no time left to retry: SendMessageBatch failed: HTTP 500 InternalError: injected");
        assertThat(calls).hasValue(1);
        assertThat(delivery.retries()).isZero();
    }

    @Test
    void atTheDeadlineDeliverReturnsAndInterruptsTheCallsStillRunning() throws InterruptedException {
        String queue = sqs.createQueue("deliver-deadline");
        var interrupted = new CountDownLatch(2);
        var release = new CountDownLatch(1);
        // two requests of ten, both hang until interrupted
        var sink = new SqsResultsSink(intercepted(sqs, (request, real) -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                interrupted.countDown();
                throw SdkClientException.create("interrupted", e);
            }
            return real.sendMessageBatch(request);
        }), settings(queue, SqsResultsSink.SQS_MAX_BYTES, 2, 1, Duration.ofMillis(1)));
        Deadline deadline = Deadline.after(Duration.ofMillis(800));

        try {
            Delivery delivery = sink.deliver(messages(20), deadline);

            assertThat(deadline.isExpired()).isTrue();
            assertThat(delivery.deliveredCount()).isZero();
            assertThat(interrupted.await(10, TimeUnit.SECONDS)).isTrue();
        } finally {
            release.countDown();
        }
        assertThat(sqs.drain(queue)).isEmpty();
    }

    /** Runs {@code deliver} on a thread of its own, so that the test can interrupt it. */
    record Caller(Thread thread, AtomicReference<Delivery> delivery,
            AtomicBoolean interruptedAfter) {

        static Caller deliver(SqsResultsSink sink, int results) {
            var delivery = new AtomicReference<Delivery>();
            var interruptedAfter = new AtomicBoolean();
            Thread thread = Thread.ofPlatform().name("deliver-caller").start(() -> {
                delivery.set(sink.deliver(messages(results), Deadline.after(Duration.ofMinutes(2))));
                interruptedAfter.set(Thread.currentThread().isInterrupted());
            });
            return new Caller(thread, delivery, interruptedAfter);
        }

        /** Interrupts the caller once it waits with a time limit (a backoff's sleep, a join), after {@code ready}. */
        void interruptWhenWaiting(CountDownLatch ready) throws InterruptedException {
            assertThat(ready.await(10, TimeUnit.SECONDS)).isTrue();
            long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (thread.getState() != Thread.State.TIMED_WAITING) {
                assertThat(thread.isAlive()).as("the caller still delivering").isTrue();
                assertThat(System.nanoTime() - giveUp).as("the caller waiting within 10 s").isNegative();
                Thread.onSpinWait();
            }
            thread.interrupt();
            assertThat(thread.join(Duration.ofSeconds(10))).as("deliver returned at once").isTrue();
        }
    }

    /**
     * A sink whose every request fails with a 500 and counts {@code failed} down: two senders, ten attempts,
     * a backoff of up to a minute after each failure.
     */
    static SqsResultsSink failingEveryRequest(String queue, int maxBatchBytes, CountDownLatch failed) {
        return new SqsResultsSink(intercepted(sqs, (request, real) -> {
            failed.countDown();
            throw serviceError(500, "InternalError");
        }), settings(sqs.createQueue(queue), maxBatchBytes, 2, 10, Duration.ofMinutes(1)));
    }

    @Test
    void aCallerInterruptedWhileItBacksOffReturnsAtOnceWithItsResultsUndeliveredAndStaysInterrupted()
            throws InterruptedException {
        // one request: the caller sends it itself, and backs off for up to a minute after each failure
        var failed = new CountDownLatch(1);
        var sink = failingEveryRequest("deliver-interrupted-backoff", SqsResultsSink.SQS_MAX_BYTES, failed);

        Caller caller = Caller.deliver(sink, 3);
        caller.interruptWhenWaiting(failed);

        assertThat(caller.delivery().get().failures()).containsOnly(
                "interrupted before retrying: SendMessageBatch failed: HTTP 500 InternalError: injected");
        assertThat(caller.interruptedAfter()).isTrue();
    }

    @Test
    void aCallerInterruptedWhileItsSendersBackOffReturnsAtOnceWithItsResultsUndeliveredAndStaysInterrupted()
            throws InterruptedException {
        // two requests of one result, one per sender; each fails and backs off for up to a minute
        var failed = new CountDownLatch(2);
        var sink = failingEveryRequest("deliver-interrupted-join", 24, failed);

        Caller caller = Caller.deliver(sink, 2);
        caller.interruptWhenWaiting(failed);

        // the caller returns without waiting for its senders: a result's failure is what its sender had recorded
        // by then (the latch counts a request before its sender records the failure), and each is undelivered
        assertThat(caller.delivery().get().failures()).hasSize(2).allSatisfy(failure -> assertThat(failure).isIn(
                "not sent before the deadline", "SendMessageBatch failed: HTTP 500 InternalError: injected",
                "interrupted before retrying: SendMessageBatch failed: HTTP 500 InternalError: injected"));
        assertThat(caller.interruptedAfter()).isTrue();
    }

    @Test
    void anSdkErrorThatIsNeitherTheServicesNorTheNetworksIsNotRetried() {
        var calls = new AtomicInteger();
        var sink = new SqsResultsSink(intercepted(sqs, (request, real) -> {
            calls.incrementAndGet();
            throw SdkException.builder().message("a signing failure").build();
        }), settings(sqs.createQueue("deliver-sdk-error"), SqsResultsSink.SQS_MAX_BYTES, 1, 5, Duration.ofMillis(1)));

        Delivery delivery = sink.deliver(messages(1), Deadline.after(Duration.ofSeconds(10)));

        assertThat(delivery.failures()).containsExactly("SendMessageBatch failed: SdkException: a signing failure");
        assertThat(calls).hasValue(1);
    }

    @Test
    void aClientErrorWithoutDetailsIsTheSendersFaultAndReportedNotThrown() {
        var calls = new AtomicInteger();
        var sink = new SqsResultsSink(intercepted(sqs, (request, real) -> {
            calls.incrementAndGet();
            throw (SqsException) SqsException.builder().statusCode(400).message("bad request").build();
        }), settings(sqs.createQueue("deliver-no-details"), SqsResultsSink.SQS_MAX_BYTES, 1, 5, Duration.ofMillis(1)));

        Delivery delivery = sink.deliver(messages(1), Deadline.after(Duration.ofSeconds(10)));

        // a lone entry refused as the sender's fault, with no stand-in to send instead: reported, not retried
        assertThat(delivery.failures().getFirst()).startsWith("SendMessageBatch failed: SqsException: bad request");
        assertThat(calls).hasValue(1);
    }
}
