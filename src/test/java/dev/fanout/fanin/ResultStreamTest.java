package dev.fanout.fanin;

import static dev.fanout.fanin.SqsResultsSinkTest.intercepted;
import static dev.fanout.fanin.SqsResultsSinkTest.message;
import static dev.fanout.fanin.SqsResultsSinkTest.refusingEntries;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.fanout.engine.Deadline;
import dev.fanout.testing.ElasticMq;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * The results sink's streaming send ({@link ResultsSink#open}) against ElasticMQ: what each offered result
 * became, under partial confirmation, FIFO hold-back and the stream's deadline, and how results are packed.
 */
class ResultStreamTest {

    static final String NOT_SENT = "not sent before the deadline";
    static final String HELD_BACK = "held back: an earlier result of its group was not confirmed";

    static final ElasticMq sqs = ElasticMq.shared();

    static SqsResultsSink.Settings settings(String queue, int maxBatchBytes, int sendConcurrency) {
        return new SqsResultsSink.Settings(queue, maxBatchBytes, maxBatchBytes, sendConcurrency, 1, Duration.ofMillis(1),
                Duration.ofMillis(5), Duration.ofMillis(20));
    }

    static List<String> bodies(List<Message> messages) {
        return messages.stream().map(Message::body).toList();
    }

    @Test
    void underPartialConfirmationOnlyTheConfirmedResultsAreDeliveredWithTheirIds() {
        String queue = sqs.createQueue("stream-partial");
        var sink = new SqsResultsSink(intercepted(sqs, refusingEntries("r1", false, "InternalError")),
                settings(queue, SqsResultsSink.SQS_MAX_BYTES, 4));

        ResultStream stream = sink.open(4, Deadline.after(Duration.ofSeconds(10)));
        for (int i = 0; i < 3; i++) {
            stream.offer(i, message("r" + i, null), -1);
        }
        Delivery delivery = stream.close();

        assertThat(delivery.failures()).containsExactly(null,
                "gave up after 1 attempt: SQS refused the entry: InternalError injected", null, NOT_SENT);
        assertThat(delivery.deliveredCount()).isEqualTo(2);
        List<Message> onQueue = sqs.drain(queue);
        assertThat(bodies(onQueue)).containsExactlyInAnyOrder("r0", "r2");
        for (Message m : onQueue) {
            int index = Integer.parseInt(m.body().substring(1));
            assertThat(delivery.messageId(index)).isEqualTo(m.messageId());
        }
        assertThat(delivery.messageId(1)).isNull();
        assertThat(delivery.messageId(3)).isNull();
        assertThat(stream.confirmationLag(100)).isPositive();
    }

    @Test
    void aSecondOfferOfAnIndexAndAnOfferAfterCloseAreIgnored() {
        String queue = sqs.createQueue("stream-ignored");
        var sink = new SqsResultsSink(sqs.client(), settings(queue, SqsResultsSink.SQS_MAX_BYTES, 4));

        ResultStream stream = sink.open(2, Deadline.after(Duration.ofSeconds(10)));
        stream.offer(0, message("first", null), -1);
        stream.offer(0, message("second", null), -1);
        Delivery delivery = stream.close();
        stream.offer(1, message("after close", null), -1);

        assertThat(delivery.failures()).containsExactly(null, NOT_SENT);
        assertThat(bodies(sqs.drain(queue))).containsExactly("first");
    }

    @Test
    void aFifoResultWaitsForItsPredecessorsConfirmationWhateverTheOfferOrder() {
        String queue = sqs.createQueue("stream-order.fifo");
        var requests = new ConcurrentLinkedQueue<List<String>>();
        var sink = new SqsResultsSink(intercepted(sqs, (request, real) -> {
            requests.add(request.entries().stream().map(SendMessageBatchRequestEntry::messageBody).toList());
            return real.sendMessageBatch(request);
        }), settings(queue, SqsResultsSink.SQS_MAX_BYTES, 4));

        ResultStream stream = sink.open(3, Deadline.after(Duration.ofSeconds(10)));
        stream.offer(2, message("a2", "a"), 1);
        stream.offer(1, message("a1", "a"), 0);
        stream.offer(0, message("a0", "a"), -1);
        Delivery delivery = stream.close();

        assertThat(delivery.failures()).containsOnlyNulls();
        assertThat(bodies(sqs.drain(queue))).containsExactly("a0", "a1", "a2");
        // each result of the group went out only once the one before it was confirmed: one request each
        assertThat(requests).containsExactly(List.of("a0"), List.of("a1"), List.of("a2"));
    }

    @Test
    void aGroupWhoseResultIsNotConfirmedSendsNoneOfItsLaterResults() {
        String queue = sqs.createQueue("stream-hold-back.fifo");
        var sink = new SqsResultsSink(intercepted(sqs, refusingEntries("a0", false, "InternalError")),
                settings(queue, SqsResultsSink.SQS_MAX_BYTES, 4));

        ResultStream stream = sink.open(4, Deadline.after(Duration.ofSeconds(10)));
        stream.offer(0, message("a0", "a"), -1);
        stream.offer(1, message("a1", "a"), 0);
        stream.offer(2, message("a2", "a"), 1);
        stream.offer(3, message("b0", "b"), -1);
        Delivery delivery = stream.close();

        assertThat(delivery.failures()).containsExactly(
                "gave up after 1 attempt: SQS refused the entry: InternalError injected", HELD_BACK, HELD_BACK, null);
        assertThat(bodies(sqs.drain(queue))).containsExactly("b0");
    }

    @Test
    void aResultOfferedAfterItsPredecessorFailedIsHeldBackAtOnce() {
        String queue = sqs.createQueue("stream-failed-before.fifo");
        // the first result is over the message limit and names no record: it fails as it is offered
        var sink = new SqsResultsSink(sqs.client(), settings(queue, 100, 4));

        ResultStream stream = sink.open(3, Deadline.after(Duration.ofSeconds(10)));
        stream.offer(0, message("x".repeat(200), "a"), -1);
        stream.offer(1, message("a1", "a"), 0);
        stream.offer(2, message("b0", "b"), -1);
        Delivery delivery = stream.close();

        assertThat(delivery.failures()).containsExactly("message of 221 bytes exceeds the 100-byte limit", HELD_BACK, null);
        assertThat(bodies(sqs.drain(queue))).containsExactly("b0");
    }

    @Test
    void aResultWaitingForAPredecessorThatIsNeverOfferedIsHeldBackAtClose() {
        String queue = sqs.createQueue("stream-orphan.fifo");
        var sink = new SqsResultsSink(sqs.client(), settings(queue, SqsResultsSink.SQS_MAX_BYTES, 4));
        Deadline deadline = Deadline.after(Duration.ofSeconds(30));

        ResultStream stream = sink.open(2, deadline);
        stream.offer(1, message("a1", "a"), 0);
        Delivery delivery = stream.close();

        assertThat(delivery.failures()).containsExactly(NOT_SENT, HELD_BACK);
        // close did not wait for the deadline on a result that could never go
        assertThat(deadline.remaining()).isGreaterThan(Duration.ofSeconds(15));
        assertThat(sqs.drain(queue)).isEmpty();
    }

    @Test
    void requestsHoldAtMostTenResults() throws InterruptedException {
        assertThat(requestSizes(25, SqsResultsSink.SQS_MAX_BYTES)).containsExactly(1, 10, 10, 4);
    }

    @Test
    void requestsStayWithinTheBatchByteLimit() throws InterruptedException {
        // each result is 24 bytes (a 3-byte body, "status", "String", "succeeded"): three fit in 72 bytes
        assertThat(requestSizes(8, 72)).containsExactly(1, 3, 3, 1);
    }

    /**
     * Offers {@code n} results to a stream with one request in flight at a time: the first request holds the
     * first result alone and is kept in flight until the other results are offered, so the rest are packed
     * from a full queue. Returns the sizes of the requests in order.
     */
    static List<Integer> requestSizes(int n, int maxBatchBytes) throws InterruptedException {
        String queue = sqs.createQueue("stream-packing-" + n + "-" + maxBatchBytes);
        var sizes = new ConcurrentLinkedQueue<Integer>();
        var firstArrived = new CountDownLatch(1);
        var allOffered = new CountDownLatch(1);
        var sink = new SqsResultsSink(intercepted(sqs, (request, real) -> {
            sizes.add(request.entries().size());
            firstArrived.countDown();
            try {
                if (!allOffered.await(10, TimeUnit.SECONDS)) {
                    throw SdkClientException.create("the test did not offer its results");
                }
            } catch (InterruptedException e) {
                throw SdkClientException.create("interrupted", e);
            }
            return real.sendMessageBatch(request);
        }), settings(queue, maxBatchBytes, 1));

        ResultStream stream = sink.open(n, Deadline.after(Duration.ofSeconds(20)));
        stream.offer(0, message(String.format("r%02d", 0), null), -1);
        assertThat(firstArrived.await(10, TimeUnit.SECONDS)).isTrue();
        for (int i = 1; i < n; i++) {
            stream.offer(i, message(String.format("r%02d", i), null), -1);
        }
        allOffered.countDown();
        Delivery delivery = stream.close();

        assertThat(delivery.deliveredCount()).isEqualTo(n);
        assertThat(sqs.drain(queue)).hasSize(n);
        return List.copyOf(sizes);
    }

    @Test
    void atTheDeadlineCloseReturnsAndWhatIsUnconfirmedStaysUndelivered() throws InterruptedException {
        String queue = sqs.createQueue("stream-deadline");
        var sent = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var interrupted = new CountDownLatch(1);
        // the first request hangs (a call that never answers) until the stream's deadline interrupts it
        var sink = new SqsResultsSink(intercepted(sqs, (request, real) -> {
            if (request.entries().getFirst().messageBody().equals("hangs")) {
                sent.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    interrupted.countDown();
                    throw SdkClientException.create("interrupted", e);
                }
            }
            return real.sendMessageBatch(request);
        }), settings(queue, SqsResultsSink.SQS_MAX_BYTES, 1));
        Deadline deadline = Deadline.after(Duration.ofMillis(1500));

        try {
            ResultStream stream = sink.open(3, deadline);
            stream.offer(0, message("hangs", null), -1);
            assertThat(sent.await(10, TimeUnit.SECONDS)).isTrue();
            stream.offer(1, message("waits", null), -1); // one request at a time: this one never goes out
            Delivery delivery = stream.close();

            assertThat(deadline.isExpired()).isTrue();
            assertThat(deadline.remaining()).isGreaterThan(Duration.ofSeconds(-5));
            assertThat(delivery.failures().get(0)).isNotNull();
            assertThat(delivery.failures().subList(1, 3)).containsExactly(NOT_SENT, NOT_SENT);
            assertThat(delivery.deliveredCount()).isZero();
            assertThat(stream.confirmationLag(50)).isZero();
            // close stopped the call still hanging past the deadline, not left it to the test's release
            assertThat(interrupted.await(10, TimeUnit.SECONDS)).isTrue();
        } finally {
            release.countDown();
        }
        assertThat(sqs.drain(queue)).isEmpty();
    }
}
