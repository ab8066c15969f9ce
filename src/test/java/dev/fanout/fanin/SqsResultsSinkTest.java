package dev.fanout.fanin;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.batch.ResultMessages;
import dev.fanout.engine.Deadline;
import dev.fanout.testing.ElasticMq;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SqsException;

/** The results sink against ElasticMQ, with exact faults in front of it. */
class SqsResultsSinkTest {

    static final ElasticMq sqs = ElasticMq.shared();

    static ResultMessage message(String body, String group) {
        return new ResultMessage(body, Map.of("status", "succeeded"), Optional.ofNullable(group),
                Optional.ofNullable(group == null ? null : body));
    }

    static SqsResultsSink.Settings settings(String queue, int maxAttempts) {
        return new SqsResultsSink.Settings(queue, SqsResultsSink.SQS_MAX_BYTES, SqsResultsSink.SQS_MAX_BYTES, 4,
                maxAttempts, Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(20));
    }

    /** A client in front of ElasticMQ that lets a test decide each request's fate. */
    interface Interceptor {
        SendMessageBatchResponse send(SendMessageBatchRequest request, SqsClient real);
    }

    static SqsClient intercepted(Interceptor interceptor) {
        return intercepted(sqs, interceptor);
    }

    /** {@link #intercepted(Interceptor)} in front of another test's ElasticMQ. */
    static SqsClient intercepted(ElasticMq server, Interceptor interceptor) {
        return new SqsClient() {
            @Override
            public SendMessageBatchResponse sendMessageBatch(SendMessageBatchRequest request) {
                return interceptor.send(request, server.client());
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

    /** Refuses entries whose body starts with {@code prefix}, as SQS does in an HTTP 200 answer. */
    static Interceptor refusingEntries(String prefix, boolean senderFault, String code) {
        return (request, real) -> {
            var forwarded = request.entries().stream().filter(e -> !e.messageBody().startsWith(prefix)).toList();
            var stored = forwarded.isEmpty() ? SendMessageBatchResponse.builder().build()
                    : real.sendMessageBatch(request.toBuilder().entries(forwarded).build());
            var failed = new ArrayList<>(stored.failed());
            request.entries().stream().filter(e -> e.messageBody().startsWith(prefix)).forEach(e -> failed.add(
                    BatchResultErrorEntry.builder().id(e.id()).senderFault(senderFault).code(code).message("injected").build()));
            return stored.toBuilder().failed(failed).build();
        };
    }

    static List<ResultMessage> oneGroup(String group, int n) {
        List<ResultMessage> messages = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            messages.add(message(group + i, group));
        }
        return messages;
    }

    @Nested
    class FifoOrder {

        @Test
        void tenResultsOfOneGroupTheFirstRefusedPutNoneOfTheOtherNineOnTheQueue() {
            String queue = sqs.createQueue("sink-probe.fifo");
            var requests = new AtomicInteger();
            Interceptor refuseA0 = refusingEntries("a0", false, "InternalError");
            SqsClient client = intercepted((request, real) -> {
                requests.incrementAndGet();
                return refuseA0.send(request, real);
            });

            Delivery delivery = new SqsResultsSink(client, settings(queue, 1)).deliver(oneGroup("a", 10),
                    Deadline.after(Duration.ofSeconds(10)));

            assertThat(delivery.failures().get(0)).isEqualTo("gave up after 1 attempt: SQS refused the entry: InternalError injected");
            for (int i = 1; i < 10; i++) {
                assertThat(delivery.failures().get(i)).isEqualTo("held back: an earlier result of its group was not confirmed");
            }
            assertThat(sqs.drain(queue)).isEmpty();
            assertThat(requests).hasValue(1);
        }

        @Test
        void aGroupWithAnUnconfirmedResultSendsNothingAfterItWhileOtherGroupsGoOn() {
            String queue = sqs.createQueue("sink-hold-back.fifo");
            List<ResultMessage> messages = new ArrayList<>(oneGroup("a", 11));
            messages.addAll(oneGroup("b", 3));
            Interceptor refuseA3 = refusingEntries("a3", false, "InternalError");

            Delivery delivery = new SqsResultsSink(intercepted(refuseA3), settings(queue, 2)).deliver(messages,
                    Deadline.after(Duration.ofSeconds(10)));

            assertThat(delivery.failures().get(3)).isEqualTo("gave up after 2 attempts: SQS refused the entry: InternalError injected");
            assertThat(delivery.failures().subList(4, 11)).containsOnly("held back: an earlier result of its group was not confirmed");
            assertThat(delivery.deliveredCount()).isEqualTo(3 + 3);
            List<String> onQueue = sqs.drain(queue).stream().map(m -> m.body()).toList();
            assertThat(onQueue.stream().filter(b -> b.startsWith("a")).toList()).containsExactly("a0", "a1", "a2");
            assertThat(onQueue.stream().filter(b -> b.startsWith("b")).toList()).containsExactly("b0", "b1", "b2");
        }

        @Test
        void aResultRefusedAsTheSendersFaultIsReplacedAndTheGroupKeepsItsOrder() throws Exception {
            String queue = sqs.createQueue("sink-fifo-refused.fifo");
            List<ResultMessage> messages = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                messages.add(new ResultMessage((i == 0 ? "poison" : "a") + i, Map.of("status", "succeeded"),
                        Optional.of("a"), Optional.of("d" + i), Optional.of(ResultMessages.substitution("m-" + i))));
            }

            Delivery delivery = new SqsResultsSink(intercepted(refusingEntries("poison", true, "InvalidMessageContents")),
                    settings(queue, 1)).deliver(messages, Deadline.after(Duration.ofSeconds(10)));

            assertThat(delivery.deliveredCount()).isEqualTo(10);
            assertThat(delivery.refused()).isEqualTo(1);
            List<String> bodies = sqs.drain(queue).stream().map(m -> m.body()).toList();
            assertThat(bodies).hasSize(10);
            assertThat(new ObjectMapper().readTree(bodies.getFirst()).get("sourceMessageId").asText()).isEqualTo("m-0");
            assertThat(bodies.subList(1, 10)).containsExactly("a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9");
        }

        @Test
        void splitBatchesKeepAGroupsOrderWhenAHalfIsRefused() {
            String queue = sqs.createQueue("sink-split-order.fifo");
            // four groups of ten: every request of more than two entries is too long; b0 refused for good
            List<ResultMessage> messages = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                for (String group : List.of("a", "b", "c", "d")) {
                    messages.add(message(group + i, group));
                }
            }
            Interceptor refuseB0 = refusingEntries("b0", false, "InternalError");
            SqsClient client = intercepted((request, real) -> {
                if (request.entries().size() > 2) {
                    throw tooLong();
                }
                return refuseB0.send(request, real);
            });

            Delivery delivery = new SqsResultsSink(client, settings(queue, 1)).deliver(messages, Deadline.after(Duration.ofSeconds(10)));

            assertThat(delivery.deliveredCount()).isEqualTo(30);
            List<String> onQueue = sqs.drain(queue).stream().map(m -> m.body()).toList();
            assertThat(onQueue).noneMatch(body -> body.startsWith("b"));
            for (String group : List.of("a", "c", "d")) {
                assertThat(onQueue.stream().filter(body -> body.startsWith(group)).toList())
                        .containsExactlyElementsOf(IntStream.range(0, 10).mapToObj(i -> group + i).toList());
            }
        }
    }

    static SqsException tooLong() {
        return (SqsException) SqsException.builder().statusCode(400).awsErrorDetails(AwsErrorDetails.builder()
                .errorCode("AWS.SimpleQueueService.BatchRequestTooLong")
                .errorMessage("Batch requests cannot be longer than 262144 bytes").build())
                .build();
    }

    @Nested
    class PoisonResults {

        @Test
        void anEntryRefusedAsTheSendersFaultIsSentAgainOnceAsAMinimalErrorResult() throws Exception {
            String queue = sqs.createQueue("sink-entry-refused");
            List<ResultMessage> messages = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                messages.add(new ResultMessage((i == 4 ? "poison \"x\" \u00e9" : "ok") + i, Map.of("status", "succeeded"),
                        Optional.empty(), Optional.empty(), Optional.of(ResultMessages.substitution("m-" + i))));
            }

            Delivery delivery = new SqsResultsSink(intercepted(refusingEntries("poison", true, "InvalidMessageContents")),
                    settings(queue, 1)).deliver(messages, Deadline.after(Duration.ofSeconds(10)));

            assertThat(delivery.deliveredCount()).isEqualTo(10);
            assertThat(delivery.refused()).isEqualTo(1);
            var refused = sqs.drain(queue).stream().filter(m -> !m.body().startsWith("ok")).toList();
            assertThat(refused).hasSize(1);
            assertThat(refused.getFirst().body()).isEqualTo("{\"sourceMessageId\":\"m-4\",\"status\":\"failed\","
                    + "\"error\":{\"type\":\"ResultRefused\",\"message\":\"the results queue refused this record's result: "
                    + "InvalidMessageContents injected\",\"retryable\":false}}");
            assertThat(refused.getFirst().messageAttributes().get("status").stringValue()).isEqualTo("failed");
            assertThat(new ObjectMapper().readTree(refused.getFirst().body()).at("/error/type").asText()).isEqualTo("ResultRefused");
        }

        @Test
        void aMinimalErrorResultRefusedTooIsReportedAndNotSentAThirdTime() {
            String queue = sqs.createQueue("sink-refused-twice");
            var requests = new AtomicInteger();
            SqsClient client = intercepted((request, real) -> {
                requests.incrementAndGet();
                return SendMessageBatchResponse.builder().failed(request.entries().stream().map(e -> BatchResultErrorEntry
                        .builder().id(e.id()).senderFault(true).code("InvalidParameterValue").message("no").build()).toList())
                        .build();
            });

            Delivery delivery = new SqsResultsSink(client, settings(queue, 5)).deliver(
                    List.of(new ResultMessage("x", Map.of("status", "succeeded"), Optional.empty(), Optional.empty(),
                            Optional.of(ResultMessages.substitution("m-0")))), Deadline.after(Duration.ofSeconds(10)));

            assertThat(delivery.failures().getFirst()).isEqualTo("SQS refused even the minimal error result: InvalidParameterValue no");
            assertThat(requests).hasValue(2);
        }

        @Test
        void aRefusedMessageThatIsNoRecordsResultIsReportedNotReplaced() {
            String queue = sqs.createQueue("sink-refused-work-item");
            var requests = new AtomicInteger();
            Interceptor refuse = refusingEntries("poison", true, "InvalidParameterValue");
            SqsClient client = intercepted((request, real) -> {
                requests.incrementAndGet();
                return refuse.send(request, real);
            });

            // a work item on its way to the work queue (queued mode) names no record: no error result replaces it
            Delivery delivery = new SqsResultsSink(client, settings(queue, 5)).deliver(
                    List.of(message("poison item", null), message("fine item", null)), Deadline.after(Duration.ofSeconds(10)));

            assertThat(delivery.failures().getFirst()).isEqualTo("SQS refused the entry: InvalidParameterValue injected");
            assertThat(delivery.delivered(1)).isTrue();
            assertThat(delivery.refused()).isZero();
            assertThat(requests).hasValue(1);
            assertThat(sqs.drain(queue)).extracting(m -> m.body()).containsExactly("fine item");
        }

        @Test
        void aWholeRequestRefusedForOneEntryIsHalvedUntilThatEntryStandsAlone() {
            String queue = sqs.createQueue("sink-request-refused");
            var requests = new AtomicInteger();
            SqsClient client = intercepted((request, real) -> {
                requests.incrementAndGet();
                if (request.entries().stream().anyMatch(e -> e.messageBody().startsWith("poison"))) {
                    throw (SqsException) SqsException.builder().statusCode(400).awsErrorDetails(AwsErrorDetails.builder()
                            .errorCode("InvalidMessageContents").errorMessage("Invalid characters found.").build()).build();
                }
                return real.sendMessageBatch(request);
            });
            List<ResultMessage> messages = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                messages.add(new ResultMessage((i == 7 ? "poison" : "ok") + i, Map.of("status", "succeeded"),
                        Optional.empty(), Optional.empty(), Optional.of(ResultMessages.substitution("m-" + i))));
            }

            Delivery delivery = new SqsResultsSink(client, settings(queue, 1)).deliver(messages, Deadline.after(Duration.ofSeconds(10)));

            assertThat(delivery.deliveredCount()).isEqualTo(10);
            assertThat(delivery.refused()).isEqualTo(1);
            // 0-9 refused; 0-4 ok; 5-9 refused; 5-6 ok; 7-9 refused; 7 refused; its replacement ok; 8-9 ok
            assertThat(requests).hasValue(8);
            assertThat(sqs.drain(queue)).extracting(m -> m.body()).filteredOn(b -> b.contains("ResultRefused")).singleElement()
                    .asString().contains("\"sourceMessageId\":\"m-7\"", "HTTP 400 InvalidMessageContents: Invalid characters found.");
        }

        @Test
        void aResultAboveTheMessageLimitIsReplacedByItsMinimalErrorResult() {
            String queue = sqs.createQueue("sink-too-large");
            var big = new ResultMessage("x".repeat(2000), Map.of("status", "succeeded"), Optional.empty(),
                    Optional.empty(), Optional.of(ResultMessages.substitution("m-big")));

            Delivery delivery = deliverWithin1000Bytes(queue, big);

            assertThat(delivery.delivered(0)).isTrue();
            assertThat(sqs.drain(queue)).singleElement().extracting(m -> m.body()).asString()
                    .contains("\"sourceMessageId\":\"m-big\"", "the result is 2021 bytes, more than the 1000-byte message limit");
        }

        /** Delivers {@code message} to {@code queue} through a sink whose message limit is 1,000 bytes. */
        static Delivery deliverWithin1000Bytes(String queue, ResultMessage message) {
            var settings = new SqsResultsSink.Settings(queue, 1000, 10_000, 4, 1, Duration.ofMillis(1),
                    Duration.ofMillis(5), Duration.ofMillis(20));
            return new SqsResultsSink(sqs.client(), settings).deliver(List.of(message), Deadline.after(Duration.ofSeconds(10)));
        }

        /** A result of 2,021 bytes as SQS counts them (its body and its status attribute). */
        static ResultMessage oversized(Optional<ResultMessage.Substitution> substitution) {
            return new ResultMessage("x".repeat(2000), Map.of("status", "succeeded"), Optional.empty(), Optional.empty(),
                    substitution);
        }

        /** A stand-in whose smaller form is {@code smaller} characters long, and whose minimal result names the reason. */
        static ResultMessage.Substitution substitution(int smaller) {
            return new ResultMessage.Substitution() {
                @Override
                public Optional<ResultMessage.Substitute> refused(String reason) {
                    return Optional.of(new ResultMessage.Substitute("minimal: " + reason, Map.of("status", "failed")));
                }

                @Override
                public Optional<ResultMessage.Substitute> withinLimit(int size, int limit) {
                    String body = size + " over " + limit + " ";
                    return Optional.of(new ResultMessage.Substitute(body + "s".repeat(smaller - body.length()),
                            Map.of("status", "failed")));
                }
            };
        }

        @Test
        void aResultAboveTheMessageLimitIsSentInTheSmallerFormItsStandInOffers() {
            String queue = sqs.createQueue("sink-smaller-form");
            Delivery delivery = deliverWithin1000Bytes(queue, oversized(Optional.of(substitution(100))));

            assertThat(delivery.delivered(0)).isTrue();
            assertThat(delivery.tooLarge()).isEqualTo(1);
            assertThat(delivery.refused()).isZero();
            var sent = sqs.drain(queue);
            assertThat(sent).singleElement().extracting(m -> m.body()).isEqualTo("2021 over 1000 " + "s".repeat(85));
            assertThat(sent.getFirst().messageAttributes().get("status").stringValue()).isEqualTo("failed");
        }

        @Test
        void aResultOfExactlyTheMessageLimitIsSentAsItIs() {
            String queue = sqs.createQueue("sink-exact-limit");
            // 979 bytes of body and 21 of its status attribute: exactly the 1,000-byte limit
            var exact = new ResultMessage("x".repeat(979), Map.of("status", "succeeded"), Optional.empty(), Optional.empty(),
                    Optional.of(substitution(100)));
            assertThat(exact.sizeInBytes()).isEqualTo(1000);

            Delivery delivery = deliverWithin1000Bytes(queue, exact);

            assertThat(delivery.delivered(0)).isTrue();
            assertThat(delivery.tooLarge()).isZero();
            assertThat(sqs.drain(queue)).singleElement().extracting(m -> m.body()).isEqualTo("x".repeat(979));
        }

        @Test
        void aSmallerFormOfExactlyTheMessageLimitIsSent() {
            String queue = sqs.createQueue("sink-smaller-form-exact-limit");
            // a body of 982 characters and its status attribute of 18 bytes: exactly the 1,000-byte limit
            Delivery delivery = deliverWithin1000Bytes(queue, oversized(Optional.of(substitution(982))));

            assertThat(delivery.delivered(0)).isTrue();
            assertThat(delivery.tooLarge()).isEqualTo(1);
            assertThat(delivery.refused()).isZero();
            assertThat(sqs.drain(queue)).singleElement().extracting(m -> m.body()).isEqualTo("2021 over 1000 " + "s".repeat(967));
        }

        @Test
        void aSmallerFormStillAboveTheLimitGivesWayToTheMinimalErrorResult() {
            String queue = sqs.createQueue("sink-smaller-form-too-large");
            Delivery delivery = deliverWithin1000Bytes(queue, oversized(Optional.of(substitution(1500))));

            assertThat(delivery.delivered(0)).isTrue();
            assertThat(delivery.tooLarge()).isZero();
            assertThat(delivery.refused()).isEqualTo(1);
            assertThat(sqs.drain(queue)).singleElement().extracting(m -> m.body())
                    .isEqualTo("minimal: the result is 2021 bytes, more than the 1000-byte message limit");
        }

        @Test
        void aMessageAboveTheLimitWithoutAStandInIsNotSent() {
            String queue = sqs.createQueue("sink-too-large-no-stand-in");
            Delivery delivery = deliverWithin1000Bytes(queue, oversized(Optional.empty()));

            assertThat(delivery.failures().getFirst()).isEqualTo("message of 2021 bytes exceeds the 1000-byte limit");
            assertThat(delivery.requests()).isZero();
            assertThat(sqs.drain(queue)).isEmpty();
        }

        /** Every class of text SQS refuses, straight to ElasticMQ, which refuses them as SQS does. */
        @ParameterizedTest
        @ValueSource(strings = { "lone high \ud83d here", "lone low \ude80 here", "reversed \ude80\ud83d pair",
                "ends high \ud83d", "non-character \ufffe", "non-character \uffff", "nul \u0000", "bell \u0007",
                "escape \u001b", "delete is fine \u007f but unit separator \u001f is not" })
        void textSqsRefusesIsEscapedAndTheResultLands(String text) throws Exception {
            String queue = sqs.createQueue("sink-text-" + Integer.toHexString(text.hashCode()));
            assertThat(JsonText.isSqsValid(text)).isFalse();
            String body = "{\"text\":\"" + text + "\"}";
            var message = new ResultMessage(body, Map.of("status", text), Optional.empty(), Optional.empty(), Optional.of(ResultMessages.substitution("m")));

            Delivery delivery = new SqsResultsSink(sqs.client(), settings(queue, 1)).deliver(List.of(message),
                    Deadline.after(Duration.ofSeconds(10)));

            assertThat(delivery.failures().getFirst()).isNull();
            assertThat(delivery.refused()).isZero();
            var received = sqs.drain(queue).getFirst();
            assertThat(JsonText.isSqsValid(received.body())).isTrue();
            assertThat(received.body()).isEqualTo(JsonText.sqsValid(body));
            // a JSON reader gets the original UTF-16 units back
            assertThat(new ObjectMapper().readTree(received.body()).get("text").asText()).isEqualTo(text);
            assertThat(received.messageAttributes().get("status").stringValue()).isEqualTo(JsonText.sqsValid(text));
        }

        @Test
        void withoutEscapingElasticMqRefusesALoneSurrogateAsTheSendersFault() {
            String queue = sqs.createQueue("sink-text-raw");
            var response = sqs.client().sendMessageBatch(r -> r.queueUrl(queue).entries(
                    software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry.builder().id("0")
                            .messageBody("rocket \ud83d").build()));
            assertThat(response.failed()).singleElement().satisfies(f -> {
                assertThat(f.senderFault()).isTrue();
                assertThat(f.code()).isEqualTo("InvalidAttributeValue"); // ElasticMQ's code; SQS says InvalidMessageContents
            });
        }

        @Test
        void validTextIsLeftAlone() {
            String text = "tab\t nl\n cr\r 🚀 \ud7ff \ue000 \ufffd \ud83d\ude80 é";
            assertThat(JsonText.isSqsValid(text)).isTrue();
            assertThat(JsonText.sqsValid(text)).isSameAs(text);
            assertThat(JsonText.sqsValid("a\ud83db")).isEqualTo("a\\ud83db");
        }
    }

    @Nested
    class UnreachableQueue {

        @Test
        void aQueueThatRefusesConnectionsIsGivenUpAfterAShortRunOfFailures() throws Exception {
            int deadPort;
            try (var socket = new java.net.ServerSocket(0)) {
                deadPort = socket.getLocalPort(); // closed again: connections to it are refused
            }
            List<ResultMessage> messages = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                messages.add(message("r" + i, null));
            }
            try (SqsClient dead = ElasticMq.client(java.net.URI.create("http://127.0.0.1:" + deadPort))) {
                var settings = new SqsResultsSink.Settings("http://127.0.0.1:" + deadPort + "/000000000000/results",
                        SqsResultsSink.SQS_MAX_BYTES, SqsResultsSink.SQS_MAX_BYTES, 1, 100, Duration.ofMillis(1),
                        Duration.ofMillis(5), Duration.ofMillis(20));
                long started = System.nanoTime();

                Delivery delivery = new SqsResultsSink(dead, settings).deliver(messages, Deadline.after(Duration.ofSeconds(60)));

                long tookMs = (System.nanoTime() - started) / 1_000_000;
                assertThat(delivery.unreachable()).isTrue();
                assertThat(delivery.deliveredCount()).isZero();
                // one sender: exactly the short run, then no request for the other nine batches
                assertThat(delivery.requests()).isEqualTo(SqsResultsSink.MAX_CONNECT_FAILURES);
                assertThat(delivery.failures()).allMatch(f -> f.startsWith("the results queue is unreachable: 3 connection failures in a row"));
                System.out.printf("dead queue: %d results, %d requests, %d ms of a 60000 ms deadline%n",
                        messages.size(), delivery.requests(), tookMs);
            }
        }
    }

    @Test
    void aBatchTheQueueFindsTooLongIsSplitUntilItFits() {
        String queue = sqs.createQueue("sink-split");
        var requests = new AtomicInteger();
        SqsClient client = intercepted((request, real) -> {
            requests.incrementAndGet();
            if (request.entries().size() > 3) {
                throw tooLong();
            }
            return real.sendMessageBatch(request);
        });
        List<ResultMessage> messages = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            messages.add(message("r" + i, null));
        }

        Delivery delivery = new SqsResultsSink(client, settings(queue, 3)).deliver(messages, Deadline.after(Duration.ofSeconds(10)));

        assertThat(delivery.deliveredCount()).isEqualTo(10);
        // 10 -> 5 + 5 -> (2 + 3) + (2 + 3): three refused requests, then four that fit
        assertThat(requests).hasValue(7);
        // every call after the first sent entries again
        assertThat(delivery.retries()).isEqualTo(6);
        assertThat(sqs.drain(queue)).hasSize(10);
    }
}
