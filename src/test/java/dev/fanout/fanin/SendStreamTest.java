package dev.fanout.fanin;

import static dev.fanout.fanin.ResultStreamTest.bodies;
import static dev.fanout.fanin.ResultStreamTest.settings;
import static dev.fanout.fanin.SqsResultsSinkTest.intercepted;
import static dev.fanout.fanin.SqsResultsSinkTest.message;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import dev.fanout.engine.Deadline;
import dev.fanout.testing.ElasticMq;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * The streaming send's dispatcher and wake-ups, with its linger and its re-reading of the deadline lifted far
 * past the stream's deadline: only a full request, a close or a signal can then move the stream, so a request
 * sent too early, or a wake-up missing, shows as a wrong request or as a wait to the deadline (30 s; every
 * test asserts that more than half of it is left).
 */
class SendStreamTest {

    static final Duration LIFTED = Duration.ofMinutes(10);
    static final Duration DEADLINE = Duration.ofSeconds(30);

    static final ElasticMq sqs = ElasticMq.shared();

    /** Records each request's bodies and counts them down. */
    record Recorder(ConcurrentLinkedQueue<List<String>> requests, CountDownLatch first) {
        Recorder() {
            this(new ConcurrentLinkedQueue<>(), new CountDownLatch(1));
        }

        SqsClient client() {
            return intercepted(sqs, (request, real) -> {
                requests.add(request.entries().stream().map(e -> e.messageBody()).toList());
                first.countDown();
                return real.sendMessageBatch(request);
            });
        }
    }

    static SendStream lifted(SqsClient client, SqsResultsSink.Settings settings, int capacity, Deadline deadline) {
        return new SendStream(new SqsDelivery(client, settings, capacity, deadline), settings, LIFTED, LIFTED);
    }

    /** Returns once the stream's dispatcher waits with a timeout (it has taken in every change so far), or after 10 s. */
    static void untilTheDispatcherWaits(SendStream stream) {
        Thread dispatcher = stream.dispatcher();
        long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (dispatcher.getState() != Thread.State.TIMED_WAITING && System.nanoTime() - giveUpAt < 0) {
            Thread.onSpinWait();
        }
    }

    static String body(int i) {
        return String.format("r%02d", i);
    }

    @Test
    void tenResultsGoOutAsOneRequestAsSoonAsTheyAreOfferedWithoutWaitingForLingerOrClose() throws InterruptedException {
        String queue = sqs.createQueue("send-stream-ten");
        var recorder = new Recorder();
        Deadline deadline = Deadline.after(DEADLINE);
        SendStream stream = lifted(recorder.client(), settings(queue, SqsResultsSink.SQS_MAX_BYTES, 4), 10, deadline);

        stream.offer(0, message(body(0), null), -1);
        untilTheDispatcherWaits(stream); // it has seen the first result alone, and left it to linger
        for (int i = 1; i < 10; i++) {
            stream.offer(i, message(body(i), null), -1);
        }
        // the request is full: the offer that filled it woke the dispatcher, which sent it before any close
        assertThat(recorder.first().await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(recorder.requests()).containsExactly(List.of("r00", "r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08", "r09"));
        Delivery delivery = stream.close();

        assertThat(delivery.failures()).containsOnlyNulls();
        assertThat(deadline.remaining()).isGreaterThan(DEADLINE.dividedBy(2));
        assertThat(sqs.drain(queue)).hasSize(10);
    }

    @Test
    void resultsThatFillTheBatchByteLimitExactlyGoOutBeforeClose() throws InterruptedException {
        String queue = sqs.createQueue("send-stream-bytes");
        var recorder = new Recorder();
        Deadline deadline = Deadline.after(DEADLINE);
        // each result is 24 bytes: three make exactly the 72-byte batch limit
        SendStream stream = lifted(recorder.client(), settings(queue, 72, 4), 3, deadline);

        for (int i = 0; i < 3; i++) {
            stream.offer(i, message(body(i), null), -1);
        }
        assertThat(recorder.first().await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(recorder.requests()).containsExactly(List.of("r00", "r01", "r02"));
        Delivery delivery = stream.close();

        assertThat(delivery.failures()).containsOnlyNulls();
        assertThat(deadline.remaining()).isGreaterThan(DEADLINE.dividedBy(2));
    }

    @Test
    void resultsThatFillNoRequestWaitForCloseWhichSendsThemAtOnceAndReturnsWhenTheyAreConfirmed() {
        String queue = sqs.createQueue("send-stream-close");
        var recorder = new Recorder();
        Deadline deadline = Deadline.after(DEADLINE);
        SendStream stream = lifted(recorder.client(), settings(queue, SqsResultsSink.SQS_MAX_BYTES, 4), 9, deadline);

        for (int i = 0; i < 9; i++) {
            stream.offer(i, message(body(i), null), -1);
        }
        untilTheDispatcherWaits(stream);
        assertThat(recorder.requests()).isEmpty(); // nine of ten, and the linger is lifted: nothing goes yet
        Delivery delivery = stream.close();

        // close woke the dispatcher, and the confirmation woke close: neither waited for the deadline
        assertThat(deadline.remaining()).isGreaterThan(DEADLINE.dividedBy(2));
        assertThat(delivery.failures()).containsOnlyNulls();
        assertThat(recorder.requests()).containsExactly(List.of("r00", "r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08"));
        assertThat(bodies(sqs.drain(queue))).hasSize(9);
    }

    @Test
    void aRequestSentTakesItsBytesOffWhatWaitsSoTheNextRequestFillsFromNothing() throws InterruptedException {
        String queue = sqs.createQueue("send-stream-bytes-again");
        var recorder = new Recorder();
        Deadline deadline = Deadline.after(DEADLINE);
        SendStream stream = lifted(recorder.client(), settings(queue, 72, 4), 5, deadline);

        for (int i = 0; i < 3; i++) {
            stream.offer(i, message(body(i), null), -1);
        }
        assertThat(recorder.first().await(10, TimeUnit.SECONDS)).isTrue();
        untilTheDispatcherWaits(stream);
        // 24 of 72 bytes wait: not a full request, whatever the first request held
        stream.offer(3, message(body(3), null), -1);
        untilTheDispatcherWaits(stream);
        stream.offer(4, message(body(4), null), -1);
        Delivery delivery = stream.close();

        assertThat(delivery.failures()).containsOnlyNulls();
        assertThat(recorder.requests()).containsExactly(List.of("r00", "r01", "r02"), List.of("r03", "r04"));
        assertThat(deadline.remaining()).isGreaterThan(DEADLINE.dividedBy(2));
    }

    @Test
    void aCallerInterruptedWhileCloseWaitsGetsWhatIsUnconfirmedAsUndeliveredAndKeepsItsInterrupt() throws InterruptedException {
        String queue = sqs.createQueue("send-stream-interrupted");
        var arrived = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var client = intercepted(sqs, (request, real) -> {
            arrived.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw SdkClientException.create("interrupted", e);
            }
            return real.sendMessageBatch(request);
        });
        Deadline deadline = Deadline.after(DEADLINE);
        SendStream stream = lifted(client, settings(queue, SqsResultsSink.SQS_MAX_BYTES, 1), 10, deadline);
        try {
            for (int i = 0; i < 10; i++) {
                stream.offer(i, message(body(i), null), -1);
            }
            assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();

            Thread.currentThread().interrupt();
            Delivery delivery = stream.close();

            assertThat(Thread.interrupted()).isTrue();
            // the request in flight is not confirmed: nothing is delivered (its sender, interrupted, may have
            // recorded its own failure by now)
            assertThat(delivery.failures()).hasSize(10).doesNotContainNull();
            assertThat(delivery.deliveredCount()).isZero();
            assertThat(deadline.remaining()).isGreaterThan(DEADLINE.dividedBy(2));
        } finally {
            Thread.interrupted();
            release.countDown();
        }
    }

    @Test
    void anInterruptedCloseStopsTheStreamSoNothingIsSentAfterItReturns() throws InterruptedException {
        String queue = sqs.createQueue("send-stream-interrupted-final");
        var requests = new ConcurrentLinkedQueue<List<String>>();
        var arrived = new CountDownLatch(1);
        var release = new CompletableFuture<Void>();
        // the first request hangs, deaf to interrupts (join waits through them), until the test releases it
        var client = intercepted(sqs, (request, real) -> {
            requests.add(request.entries().stream().map(e -> e.messageBody()).toList());
            arrived.countDown();
            release.join();
            return real.sendMessageBatch(request);
        });
        Deadline deadline = Deadline.after(DEADLINE);
        SendStream stream = lifted(client, settings(queue, SqsResultsSink.SQS_MAX_BYTES, 1), 11, deadline);
        try {
            for (int i = 0; i < 10; i++) {
                stream.offer(i, message(body(i), null), -1);
            }
            assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();
            stream.offer(10, message(body(10), null), -1); // one request at a time: it waits for the first
            untilTheDispatcherWaits(stream);

            Thread.currentThread().interrupt();
            Delivery delivery = stream.close();
            assertThat(Thread.interrupted()).isTrue();

            assertThat(delivery.failures()).hasSize(11).doesNotContainNull();
            // the stream is over when close returns: once the first request is answered, the result that
            // waited for it does not go out after all, behind the delivery the caller already has
            assertThat(stream.dispatcher().join(Duration.ofSeconds(10))).isTrue();
            release.complete(null);
            assertThat(requests).containsExactly(List.of("r00", "r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08", "r09"));
        } finally {
            Thread.interrupted();
            release.complete(null);
        }
    }

    @Test
    void aRequestThatFailsWithAnUndocumentedExceptionStillResolvesItsResultsAndCloseReturnsAtOnce() {
        String queue = sqs.createQueue("send-stream-unexpected");
        var client = intercepted(sqs, (request, real) -> {
            throw new IllegalStateException("a fault no SDK call documents");
        });
        Deadline deadline = Deadline.after(DEADLINE);
        SendStream stream = lifted(client, settings(queue, SqsResultsSink.SQS_MAX_BYTES, 4), 10, deadline);
        for (int i = 0; i < 10; i++) {
            stream.offer(i, message(body(i), null), -1);
        }

        Delivery delivery = CompletableFuture.supplyAsync(stream::close).orTimeout(10, TimeUnit.SECONDS).join();

        assertThat(delivery.failures()).containsOnly(ResultStreamTest.NOT_SENT);
        assertThat(delivery.deliveredCount()).isZero();
        assertThat(deadline.remaining()).isGreaterThan(DEADLINE.dividedBy(2));
    }

    @Test
    void aResultThatFillsNoRequestGoesOutOnceTheFirstWaitingResultHasLingeredNotTheLast() throws InterruptedException {
        String queue = sqs.createQueue("send-stream-linger");
        var requests = new ConcurrentLinkedQueue<List<String>>();
        var firstSentAt = new AtomicLong();
        var sent = new CountDownLatch(1);
        var client = intercepted(sqs, (request, real) -> {
            firstSentAt.compareAndSet(0, System.nanoTime());
            requests.add(request.entries().stream().map(e -> e.messageBody()).toList());
            sent.countDown();
            return real.sendMessageBatch(request);
        });
        Duration linger = Duration.ofSeconds(1);
        SqsResultsSink.Settings settings = settings(queue, SqsResultsSink.SQS_MAX_BYTES, 4);
        SendStream stream = new SendStream(new SqsDelivery(client, settings, 2, Deadline.after(DEADLINE)), settings, linger, LIFTED);

        long first = System.nanoTime();
        stream.offer(0, message(body(0), null), -1);
        // nothing goes out before the linger; the second result comes near its end and wakes the dispatcher
        assertThat(sent.await(linger.toMillis() * 95 / 100, TimeUnit.MILLISECONDS)).isFalse();
        stream.offer(1, message(body(1), null), -1);

        // the linger counts from the first result: the request goes out about 50 ms later, not a linger after the
        // second result (at 2.9 s); the bound of 2.5 s leaves 1.5 s to a loaded machine
        assertThat(sent.await(first + Duration.ofMillis(2_500).toNanos() - System.nanoTime(), TimeUnit.NANOSECONDS)).isTrue();
        assertThat(requests).containsExactly(List.of("r00", "r01"));
        assertThat(firstSentAt.get() - first).isGreaterThanOrEqualTo(linger.toNanos());
        assertThat(stream.close().failures()).containsOnlyNulls();
    }

    @Test
    void confirmationLagGivesThePercentilesOfTheTimesFromOfferToConfirmation() throws Exception {
        String queue = sqs.createQueue("send-stream-lag.fifo");
        var sink = new SqsResultsSink(sqs.client(), settings(queue, SqsResultsSink.SQS_MAX_BYTES, 4));
        long began = System.nanoTime();
        ResultStream stream = sink.open(4, Deadline.after(DEADLINE));
        // one group, each result after the next index: offered 0, 1, 2, 3 and confirmed 3, 2, 1, 0, one request
        // each, so each result's time from offer to confirmation holds the next one's: the lags fall by index
        stream.offer(0, message("a0", "a"), 1);
        stream.offer(1, message("a1", "a"), 2);
        stream.offer(2, message("a2", "a"), 3);
        stream.offer(3, message("a3", "a"), -1);
        Delivery delivery = stream.close();
        Duration elapsed = Duration.ofNanos(System.nanoTime() - began);

        assertThat(delivery.failures()).containsOnlyNulls();
        assertThat(bodies(sqs.drain(queue))).containsExactly("a3", "a2", "a1", "a0");
        Duration p25 = stream.confirmationLag(25);
        Duration p50 = stream.confirmationLag(50);
        Duration p75 = stream.confirmationLag(75);
        Duration p100 = stream.confirmationLag(100);
        assertThat(p25).isPositive().isLessThan(p50);
        assertThat(p50).isLessThan(p75);
        assertThat(p75).isLessThan(p100);
        assertThat(p100).isLessThanOrEqualTo(elapsed);
        assertThat(stream.confirmationLag(1)).isEqualTo(p25);
        // close and the lag left the stream unlocked: another thread reads it too
        assertThat(CompletableFuture.supplyAsync(() -> stream.confirmationLag(50)).get(10, TimeUnit.SECONDS)).isEqualTo(p50);
    }
}
