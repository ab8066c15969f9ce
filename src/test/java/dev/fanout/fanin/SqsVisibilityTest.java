package dev.fanout.fanin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import dev.fanout.engine.Deadline;
import dev.fanout.testing.ElasticMq;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequest;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchResponse;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SqsException;

/** Visibility changes against a real SQS-compatible queue (ElasticMQ), with real receipt handles. */
class SqsVisibilityTest {

    static final ElasticMq sqs = ElasticMq.shared();
    static final SqsVisibility.Settings FAST = new SqsVisibility.Settings(4, 3, Duration.ofMillis(1),
            Duration.ofMillis(5), Duration.ofMillis(20));

    /** Sends {@code n} messages and receives them all (in flight for 5 minutes); returns them in body order. */
    static List<Message> inFlight(String queue, int n) {
        for (int from = 0; from < n; from += 10) {
            int start = from;
            sqs.client().sendMessageBatch(r -> r.queueUrl(queue).entries(IntStream.range(start, Math.min(start + 10, n))
                    .mapToObj(i -> software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry.builder()
                            .id("e" + i).messageBody("body-" + i).build())
                    .toList()));
        }
        List<Message> received = receiveNow(queue, 300);
        assertThat(received).hasSize(n);
        received.sort((a, b) -> Integer.compare(index(a), index(b)));
        return received;
    }

    static int index(Message m) {
        return Integer.parseInt(m.body().substring("body-".length()));
    }

    /** Everything receivable right now, kept in flight for {@code visibilitySeconds}. */
    static List<Message> receiveNow(String queue, int visibilitySeconds) {
        List<Message> all = new ArrayList<>();
        while (true) {
            var batch = sqs.client().receiveMessage(r -> r.queueUrl(queue).maxNumberOfMessages(10).waitTimeSeconds(0)
                    .visibilityTimeout(visibilitySeconds).messageSystemAttributeNamesWithStrings("All")).messages();
            if (batch.isEmpty()) {
                return all;
            }
            all.addAll(batch);
        }
    }

    static Set<Integer> indexes(List<Message> messages) {
        return messages.stream().map(SqsVisibilityTest::index).collect(Collectors.toSet());
    }

    static SqsClient intercepted(BiFunction<ChangeMessageVisibilityBatchRequest, SqsClient, ChangeMessageVisibilityBatchResponse> f) {
        return new SqsClient() {
            @Override
            public ChangeMessageVisibilityBatchResponse changeMessageVisibilityBatch(ChangeMessageVisibilityBatchRequest request) {
                return f.apply(request, sqs.client());
            }

            @Override
            public String serviceName() {
                return "sqs";
            }

            @Override
            public void close() {
            }
        };
    }

    @Nested
    class RealReceiptHandles {

        @Test
        void aZeroTimeoutMakesARecordVisibleAtOnceAndALongOneKeepsItAway() {
            String queue = sqs.createQueue("visibility");
            List<Message> messages = inFlight(queue, 14);
            List<SqsVisibility.Change> changes = new ArrayList<>();
            for (Message m : messages) {
                changes.add(new SqsVisibility.Change(queue, m.receiptHandle(),
                        Duration.ofSeconds(index(m) % 2 == 0 ? 0 : 30)));
            }

            var result = new SqsVisibility(sqs.client(), FAST).change(changes, Deadline.after(Duration.ofSeconds(10)));

            assertThat(result.failures()).containsOnlyNulls().hasSize(14);
            assertThat(result.changedCount()).isEqualTo(14);
            assertThat(result.requests()).isEqualTo(2); // 10 entries per request
            assertThat(result.retries()).isZero();
            // the even ones are back at once; the odd ones, given 30 s instead of their 300 s, are not
            List<Message> back = receiveNow(queue, 300);
            assertThat(indexes(back)).isEqualTo(Set.of(0, 2, 4, 6, 8, 10, 12));
            assertThat(back).allSatisfy(m -> assertThat(m.attributesAsStrings()).containsEntry("ApproximateReceiveCount", "2"));
            assertThat(ElasticMq.attribute(sqs.client(), queue, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE))
                    .isEqualTo("14");
        }

        @Test
        void aShorterTimeoutBringsTheRecordBackWhenItEnds() {
            String queue = sqs.createQueue("visibility-ends");
            Message m = inFlight(queue, 1).getFirst();
            long changedAt = System.nanoTime();
            var result = new SqsVisibility(sqs.client(), FAST).change(
                    List.of(new SqsVisibility.Change(queue, m.receiptHandle(), Duration.ofSeconds(2))),
                    Deadline.after(Duration.ofSeconds(10)));
            assertThat(result.changed(0)).isTrue();
            assertThat(receiveNow(queue, 300)).isEmpty();
            // long polls (bounded: 8 × up to 1 s) until it comes back; it must not come back before its 2 s
            List<Message> back = List.of();
            for (int i = 0; i < 8 && back.isEmpty(); i++) {
                back = sqs.client().receiveMessage(r -> r.queueUrl(queue).waitTimeSeconds(1).visibilityTimeout(300))
                        .messages();
            }
            long millis = Duration.ofNanos(System.nanoTime() - changedAt).toMillis();
            assertThat(back).hasSize(1);
            // ElasticMQ counts the timeout from the change, to the millisecond: 2 s less a tolerance for its clock
            assertThat(millis).isGreaterThanOrEqualTo(1_900L).isLessThan(9_000L);
        }

        @Test
        void expiredForeignAndGarbageHandlesFailAloneAndAreNotRetried() {
            String queue = sqs.createQueue("visibility-bad");
            String other = sqs.createQueue("visibility-other");
            List<Message> messages = inFlight(queue, 3);
            Message foreign = inFlight(other, 1).getFirst();
            // deleted: its receipt handle is expired
            sqs.client().deleteMessage(r -> r.queueUrl(queue).receiptHandle(messages.get(1).receiptHandle()));
            var calls = new AtomicInteger();
            SqsClient counting = intercepted((request, real) -> {
                calls.incrementAndGet();
                return real.changeMessageVisibilityBatch(request);
            });
            List<SqsVisibility.Change> changes = List.of(
                    new SqsVisibility.Change(queue, messages.get(0).receiptHandle(), Duration.ZERO),
                    new SqsVisibility.Change(queue, messages.get(1).receiptHandle(), Duration.ZERO),
                    new SqsVisibility.Change(queue, foreign.receiptHandle(), Duration.ZERO),
                    new SqsVisibility.Change(queue, "not-a-receipt-handle", Duration.ZERO),
                    new SqsVisibility.Change(queue, messages.get(2).receiptHandle(), Duration.ZERO));

            var result = new SqsVisibility(counting, FAST).change(changes, Deadline.after(Duration.ofSeconds(10)));

            assertThat(result.changed(0)).isTrue();
            assertThat(result.changed(4)).isTrue();
            for (int i = 1; i <= 3; i++) {
                assertThat(result.failures().get(i)).as("change %d", i)
                        .startsWith("SQS refused the change: ReceiptHandleIsInvalid The receipt handle ");
            }
            // one request: each bad handle is refused as an entry of its own, the sender's fault, never retried
            assertThat(result.requests()).isEqualTo(1);
            assertThat(result.retries()).isZero();
            assertThat(indexes(receiveNow(queue, 300))).isEqualTo(Set.of(0, 2));
            assertThat(calls.get()).isEqualTo(result.requests());
        }
    }

    @Nested
    class Faults {

        final String queue = sqs.createQueue("visibility-faults");

        @Test
        void aThrottledCallIsRetried() {
            List<Message> messages = inFlight(queue, 3);
            var calls = new AtomicInteger();
            SqsClient throttleOnce = intercepted((request, real) -> {
                if (calls.incrementAndGet() == 1) {
                    throw (SqsException) SqsException.builder().statusCode(400).message("Rate exceeded")
                            .awsErrorDetails(AwsErrorDetails.builder().errorCode("ThrottlingException")
                                    .errorMessage("Rate exceeded").build()).build();
                }
                return real.changeMessageVisibilityBatch(request);
            });
            var changes = messages.stream().map(m -> new SqsVisibility.Change(queue, m.receiptHandle(), Duration.ZERO)).toList();

            var result = new SqsVisibility(throttleOnce, FAST).change(changes, Deadline.after(Duration.ofSeconds(10)));

            assertThat(result.changedCount()).isEqualTo(3);
            assertThat(List.of(result.requests(), result.retries(), result.throttled())).containsExactly(2, 1, 1);
            assertThat(indexes(receiveNow(queue, 300))).isEqualTo(Set.of(0, 1, 2));
        }

        @Test
        void entriesFailedAsTheServersFaultAreRetriedAndAGiveUpIsReported() {
            List<Message> messages = inFlight(queue, 2);
            SqsClient failingSecond = intercepted((request, real) -> {
                var forwarded = request.entries().stream().filter(e -> !e.id().equals("1")).toList();
                var answer = real.changeMessageVisibilityBatch(request.toBuilder().entries(forwarded).build());
                return answer.toBuilder().failed(software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry.builder()
                        .id("1").senderFault(false).code("InternalError").message("injected").build()).build();
            });
            var changes = messages.stream().map(m -> new SqsVisibility.Change(queue, m.receiptHandle(), Duration.ZERO)).toList();

            var result = new SqsVisibility(failingSecond, FAST).change(changes, Deadline.after(Duration.ofSeconds(10)));

            assertThat(result.failures()).containsExactly(null,
                    "gave up after 3 attempts: SQS refused the change: InternalError injected");
            assertThat(List.of(result.requests(), result.retries())).containsExactly(3, 2);
        }

        @Test
        void noTimeLeftMeansNoCall() {
            var calls = new AtomicInteger();
            SqsClient counting = intercepted((request, real) -> {
                calls.incrementAndGet();
                return real.changeMessageVisibilityBatch(request);
            });
            var result = new SqsVisibility(counting, FAST).change(
                    List.of(new SqsVisibility.Change(queue, "h", Duration.ZERO)), Deadline.after(Duration.ofMillis(10)));
            assertThat(result.failures()).containsExactly("no time left to change the visibility");
            assertThat(calls.get()).isZero();
        }

        @Test
        void aServerThatNeverAnswersCostsNoMoreThanTheDeadline() throws Exception {
            List<Socket> held = new CopyOnWriteArrayList<>();
            try (var silent = new ServerSocket(0)) {
                Thread acceptor = Thread.ofVirtual().start(() -> {
                    try {
                        while (true) {
                            held.add(silent.accept()); // read nothing, answer nothing
                        }
                    } catch (Exception closed) {
                        // the test is over
                    }
                });
                try (SqsClient client = ElasticMq.client(URI.create("http://127.0.0.1:" + silent.getLocalPort()))) {
                    var changes = IntStream.range(0, 25)
                            .mapToObj(i -> new SqsVisibility.Change(queue, "h" + i, Duration.ZERO)).toList();
                    long start = System.nanoTime();
                    var result = new SqsVisibility(client, FAST).change(changes, Deadline.after(Duration.ofMillis(400)));
                    long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();

                    assertThat(result.changedCount()).isZero();
                    assertThat(result.failures()).allSatisfy(f -> assertThat(f).isNotNull());
                    assertThat(millis).isGreaterThanOrEqualTo(350L).isLessThan(700L);
                } finally {
                    held.forEach(s -> {
                        try {
                            s.close();
                        } catch (Exception ignored) {
                            // closing
                        }
                    });
                    silent.close();
                    acceptor.join(Duration.ofSeconds(5));
                }
            }
        }
    }

    @Nested
    class Urls {

        @Test
        void anArnBecomesTheRegionalUrl() {
            assertThat(QueueUrls.fromArn("arn:aws:sqs:eu-west-1:123456789012:work", Optional.empty()))
                    .contains("https://sqs.eu-west-1.amazonaws.com/123456789012/work");
            assertThat(QueueUrls.fromArn("arn:aws-cn:sqs:cn-north-1:123456789012:work.fifo", Optional.empty()))
                    .contains("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/work.fifo");
        }

        @Test
        void withAnEndpointOverrideTheUrlIsTheOverrides() {
            assertThat(QueueUrls.fromArn("arn:aws:sqs:us-east-1:000000000000:work", Optional.of(URI.create("http://127.0.0.1:9324/"))))
                    .contains("http://127.0.0.1:9324/000000000000/work");
        }

        @Test
        void elasticMqsOwnArnGivesItsOwnUrl() {
            String queue = sqs.createQueue("arn-check");
            String arn = ElasticMq.attribute(sqs.client(), queue, QueueAttributeName.QUEUE_ARN);
            assertThat(QueueUrls.fromArn(arn, Optional.of(sqs.endpoint()))).contains(queue);
        }

        @Test
        void anythingElseIsNoUrl() {
            for (String bad : new String[] { null, "", "arn:aws:sns:us-east-1:1:topic", "arn:aws:sqs:us-east-1:1",
                    "arn:aws:sqs::1:q", "arn:aws:sqs:us-east-1::q", "arn:aws:sqs:us-east-1:1:", "arn:aws:sqs:us-east-1:1:a/b",
                    "arn:aws:sqs:us-east-1:1:q:extra", "urn:aws:sqs:us-east-1:1:q" }) {
                assertThat(QueueUrls.fromArn(bad, Optional.empty())).as("%s", bad).isEmpty();
            }
        }
    }
}
