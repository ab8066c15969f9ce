package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.Metric;
import dev.fanout.testing.FanoutSettings;
import dev.fanout.batch.QueuedBatch;
import dev.fanout.batch.SummaryFigures;
import dev.fanout.batch.http.EscapedJson;
import dev.fanout.batch.http.HttpAnswer;
import dev.fanout.batch.http.RequestBatch;
import dev.fanout.batch.http.ResultsAnswer;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.FaultySqsClient;
import dev.fanout.testing.ProxyEvents;
import dev.fanout.testing.ProxyEvents.Format;
import dev.fanout.testing.ProxyEvents.Response;
import dev.fanout.work.ItemParser;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.builtin.DigestFunction;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The HTTP batch logic in process, in every payload format: answers within Lambda's response limit counted
 * in the bytes written, outputs kept whenever they fit, exact counters, and queued mode on ElasticMQ.
 */
class HttpBatchProcessorTest {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static final int LIMIT = HttpAnswer.LAMBDA_RESPONSE_LIMIT;
    /** The largest answer any size test wrote: the figure for the docs. */
    static final AtomicLong LARGEST = new AtomicLong();

    /** digest; blob: {"chars": n, "char": "x"} -> {"text": n times char}. */
    static final ItemFunctions HANDLERS = TestFunctions.builder(MAPPER)
            .add(new DigestFunction(1_000))
            .register("blob", (payload, ctx) -> Map.of("text", payload.path("char").asText("x")
                    .repeat(payload.path("chars").asInt())))
            .build();

    static HttpBatchProcessor processor(Optional<QueuedBatch> queue) {
        return new HttpBatchProcessor(new WorkerPool(Limits.of(64).withCutoffMargin(Duration.ofMillis(300))), HANDLERS,
                new ItemParser(MAPPER, Optional.empty()), MAPPER,
                new RequestBatch.Settings(Duration.ofSeconds(29), 1_000, LIMIT, 10_000), queue);
    }

    static final HttpBatchProcessor SYNC = processor(Optional.empty());

    /** Invokes, checks the answer's counted size against the bytes written and the limit, and reads it. */
    static Response invoke(HttpBatchProcessor processor, ObjectNode event) {
        HttpAnswer answer = processor.process(event.toString().getBytes(StandardCharsets.UTF_8),
                Deadline.after(Duration.ofSeconds(20)));
        byte[] written = answer.bytes();
        assertThat(written.length).as("counted size = bytes written").isEqualTo(answer.size());
        assertThat(written.length).as("within Lambda's response limit").isLessThanOrEqualTo(LIMIT);
        LARGEST.accumulateAndGet(written.length, Math::max);
        return Response.read(written);
    }

    static String items(int count, IntFunctionToString item) {
        return ProxyEvents.batch(IntStream.range(0, count).mapToObj(item::apply).toList());
    }

    interface IntFunctionToString {
        String apply(int i);
    }

    static String digest(String id) {
        return "{\"id\":\"" + id + "\",\"type\":\"digest\",\"payload\":{\"data\":\"x\"}}";
    }

    @AfterAll
    static void printLargest() {
        System.out.printf("largest answer written in the size tests: %,d bytes of %,d (%.1f %%)%n", LARGEST.get(), LIMIT,
                100.0 * LARGEST.get() / LIMIT);
    }

    @Nested
    class Size {

        @ParameterizedTest
        @EnumSource(Format.class)
        void aTypeOf3200000CharactersIsEchoedCapped(Format format) {
            String type = "A".repeat(3_200_000);
            Response response = invoke(SYNC, format.event("{\"items\":[{\"id\":\"t\",\"type\":\"" + type + "\"}]}"));

            assertThat(response.status()).isEqualTo(200);
            JsonNode result = response.results().get(0);
            assertThat(result.get("status").asText()).isEqualTo("rejected");
            assertThat(result.get("type").asText()).startsWith("AAAA").endsWith(EscapedJson.CUT_MARK);
            assertThat(EscapedJson.answerSize(result.get("type").asText())).isLessThanOrEqualTo(ResultsAnswer.MAX_TYPE_BYTES);
            assertThat(result.at("/error/message").asText()).startsWith("unknown item type 'AAAA").endsWith(EscapedJson.CUT_MARK);
            assertThat(EscapedJson.answerSize(result.at("/error/message").asText()))
                    .isLessThanOrEqualTo(ResultsAnswer.MAX_MESSAGE_BYTES);
            assertThat(response.bytes()).isLessThan(2_000);
        }

        @ParameterizedTest
        @EnumSource(Format.class)
        void aThousandItemsWith3200CharacterTypesGetOneCappedRejectionEach(Format format) {
            String type = "A".repeat(3_200);
            Response response = invoke(SYNC, format.event(items(1_000, i -> "{\"type\":\"" + type + "\"}")));

            assertThat(response.results()).hasSize(1_000);
            response.results().forEach(r -> assertThat(r.get("status").asText()).isEqualTo("rejected"));
            assertThat(response.body().at("/summary/rejected").asInt()).isEqualTo(1_000);
            assertThat(response.bytes()).isLessThan(1_000_000);
        }

        @ParameterizedTest
        @EnumSource(Format.class)
        void aThousandDigestsWith6100CharacterIdsAreOverTheSynchronousLimits(Format format) {
            Response response = invoke(SYNC, format.event(items(1_000, i -> digest(Integer.toString(i % 10).repeat(6_100)))));

            assertThat(response.status()).isEqualTo(413);
            assertThat(response.headers()).containsEntry("Content-Type", "application/problem+json");
            assertThat(response.body().get("type").asText()).isEqualTo("urn:fanout:problem:too-many-items");
            assertThat(response.body().get("detail").asText()).isEqualTo("the items' results could take "
                    // an id's two quotes take two bytes each in the answer: \"
                    + (1_000L * (6_100 + 4 + ResultsAnswer.MAX_RESULT_BYTES_WITHOUT_ID) + fixedBytes())
                    + " bytes, more than a response can carry (6291556): use shorter ids or fewer items;"
                    + " this deployment has no work queue for queued mode");
        }

        @ParameterizedTest
        @EnumSource(Format.class)
        void aThousandDigestsWith2800CharacterIdsKeepEveryOutput(Format format) {
            Response response = invoke(SYNC, format.event(items(1_000, i -> digest(Integer.toString(i % 10).repeat(2_800)))));

            assertThat(response.status()).isEqualTo(200);
            for (int i = 0; i < 1_000; i++) {
                JsonNode result = response.results().get(i);
                assertThat(result.get("status").asText()).as("item %d", i).isEqualTo("succeeded");
                assertThat(result.at("/output/sha256").asText()).hasSize(64);
                assertThat(result.get("itemId").asText()).isEqualTo(Integer.toString(i % 10).repeat(2_800));
            }
            assertThat(response.body().at("/summary/succeeded").asInt()).isEqualTo(1_000);
            assertThat(response.body().at("/summary/outputDropped").asInt()).isZero();
            assertThat(response.body().at("/summary/outputTooLarge").asInt()).isZero();
            assertThat(response.bytes()).isBetween(2_900_000, 3_200_000);
        }

        @Test
        void outputsThatDoNotFitAreDroppedFromTheFirstThatDoesNotAndThoseItemsCanBeResubmitted() {
            // 100 outputs of 100,000 characters: 10 MB, of which about 6 MB fit
            Response response = invoke(SYNC, Format.HTTP_API_V2.event(items(100,
                    i -> "{\"type\":\"blob\",\"payload\":{\"chars\":100000}}")));

            int kept = 0;
            while (response.results().get(kept).get("status").asText().equals("succeeded")) {
                assertThat(response.results().get(kept).at("/output/text").asText()).hasSize(100_000);
                kept++;
            }
            assertThat(kept).isBetween(55, 62);
            for (int i = kept; i < 100; i++) {
                JsonNode result = response.results().get(i);
                assertThat(result.get("status").asText()).isEqualTo("failed");
                assertThat(result.has("output")).isFalse();
                assertThat(result.at("/error/type").asText()).isEqualTo("OutputDropped");
                assertThat(result.at("/error/retryable").asBoolean()).isTrue();
                // the size includes the result's timing, whose digits vary
                assertThat(result.at("/error/message").asText()).matches("the item succeeded, but its result \\(1001\\d\\d"
                        + " bytes\\) did not fit in this response with the others \\(6291556 bytes in all\\); resubmit it in a"
                        + " smaller request, or with 'Prefer: respond-async' to get its result on the results queue");
            }
            JsonNode summary = response.body().get("summary");
            assertThat(summary.get("succeeded").asInt()).isEqualTo(kept);
            assertThat(summary.get("failed").asInt()).isEqualTo(100 - kept);
            assertThat(summary.get("outputDropped").asInt()).isEqualTo(100 - kept);
            assertThat(summary.get("outputTooLarge").asInt()).isZero();
            // as full as it gets: one more output would not have fit
            assertThat(response.bytes() + 100_200).isGreaterThan(LIMIT - ResultsAnswer.SUMMARY_RESERVE);
        }

        @Test
        void anOutputLargerThanAnyAnswerIsTooLargeNotRetryableAndTheOthersAreKept() {
            Response response = invoke(SYNC, Format.HTTP_API_V2.event("{\"items\":[{\"type\":\"blob\",\"payload\":{\"chars\":7000000}},"
                    + "{\"type\":\"blob\",\"payload\":{\"chars\":10}}]}"));

            JsonNode first = response.results().get(0);
            assertThat(first.get("status").asText()).isEqualTo("failed");
            assertThat(first.at("/error/type").asText()).isEqualTo("OutputTooLarge");
            assertThat(first.at("/error/retryable").asBoolean()).isFalse();
            assertThat(first.at("/error/message").asText()).matches("the item succeeded, but its result takes 70001\\d\\d"
                    + " bytes, more than a response can carry \\(6291556 bytes in all\\)");
            assertThat(response.results().get(1).at("/output/text").asText()).isEqualTo("xxxxxxxxxx");
            JsonNode summary = response.body().get("summary");
            assertThat(summary.get("succeeded").asInt()).isEqualTo(1);
            assertThat(summary.get("failed").asInt()).isEqualTo(1);
            assertThat(summary.get("outputTooLarge").asInt()).isEqualTo(1);
            assertThat(summary.get("outputDropped").asInt()).isZero();
        }

        @Test
        void outputsThatEscapeTheMostAreCountedExactly() {
            // a quote takes 4 bytes in the answer (\" inside a string inside a string), a control character 7
            Response response = invoke(SYNC, Format.HTTP_API_V2.event(items(3, i -> "{\"type\":\"blob\",\"payload\":{\"chars\":"
                    + 400_000 + ",\"char\":\"" + List.of("\\\"", "\\u0001", "\\u00e9").get(i) + "\"}}")));

            assertThat(response.results().get(0).at("/output/text").asText()).isEqualTo("\"".repeat(400_000));
            assertThat(response.results().get(1).at("/output/text").asText()).isEqualTo("\u0001".repeat(400_000));
            assertThat(response.results().get(2).at("/output/text").asText()).isEqualTo("\u00e9".repeat(400_000));
            assertThat(response.bytes()).isGreaterThan((4 + 7 + 2) * 400_000);
        }

        @Test
        void countersCountWhatTheResultsSay() {
            Response response = invoke(SYNC, Format.HTTP_API_V2.event(items(80, i -> i < 70
                    ? "{\"type\":\"blob\",\"payload\":{\"chars\":100000}}"
                    : "{\"type\":\"nope\"}")));

            JsonNode summary = response.body().get("summary");
            Map<String, Integer> byStatus = new java.util.HashMap<>();
            response.results().forEach(r -> byStatus.merge(r.get("status").asText(), 1, Integer::sum));
            assertThat(summary.get("succeeded").asInt()).isEqualTo(byStatus.getOrDefault("succeeded", 0));
            assertThat(summary.get("failed").asInt()).isEqualTo(byStatus.getOrDefault("failed", 0));
            assertThat(summary.get("rejected").asInt()).isEqualTo(10);
            assertThat(summary.get("outputDropped").asInt()).isEqualTo(byStatus.getOrDefault("failed", 0));
            assertThat(summary.get("outputDropped").asInt()).isPositive();
        }
    }

    @Test
    void theSummaryNamesTheEnginesTimeAsTheSqsSummaryDoes() {
        Response response = invoke(SYNC, Format.HTTP_API_V2.event(items(2, i -> digest("d" + i))));

        JsonNode summary = response.body().get("summary");
        assertThat(summary.has(Metric.ENGINE_MS.key())).as(summary.toString()).isTrue();
        assertThat(summary.get(Metric.ENGINE_MS.key()).isIntegralNumber()).isTrue();
        assertThat(summary.has("elapsedMs")).isFalse();
        assertThat(summary.get("succeeded").asInt()).isEqualTo(2);
    }

    static long fixedBytes() {
        return HttpAnswer.envelopeSize(MAPPER, 200, Map.of("Content-Type", "application/json"))
                + EscapedJson.escape("{\"results\":[").length + EscapedJson.escape("],\"summary\":").length
                + EscapedJson.escape("}").length + ResultsAnswer.SUMMARY_RESERVE;
    }

    @Nested
    class Queued {

        static final ElasticMq sqs = ElasticMq.shared();

        HttpBatchProcessor queued(String queueUrl, FaultySqsClient.Faults faults) {
            var client = new FaultySqsClient(sqs.client(), faults, 7);
            return processor(Optional.of(new QueuedBatch(new SqsResultsSink(client, FanoutSettings.results(queueUrl)),
                    queueUrl.endsWith(".fifo"))));
        }

        @ParameterizedTest
        @EnumSource(Format.class)
        void preferRespondAsyncQueuesEachItemWithTheBatchIdAndItsIndex(Format format) {
            String queue = sqs.createQueue("work-" + format.name().toLowerCase().replace('_', '-'));
            ObjectNode event = format.event(items(25, i -> digest("d-" + i)));
            format.withHeader(event, "Prefer", "respond-async, wait=5");

            Response response = invoke(queued(queue, FaultySqsClient.Faults.none()), event);

            assertThat(response.status()).isEqualTo(202);
            assertThat(response.headers()).containsEntry("Preference-Applied", "respond-async");
            String batchId = response.body().get("batchId").asText();
            assertThat(response.body().get("queued").asInt()).isEqualTo(25);
            assertThat(response.body().get("notQueued").asInt()).isZero();
            List<Message> messages = sqs.drain(queue);
            assertThat(messages).hasSize(25);
            Map<String, Message> byId = new java.util.HashMap<>();
            messages.forEach(m -> byId.put(m.messageId(), m));
            for (int i = 0; i < 25; i++) {
                JsonNode entry = response.body().get("items").get(i);
                assertThat(entry.get("index").asInt()).isEqualTo(i);
                Message message = byId.get(entry.get("messageId").asText());
                assertThat(message).as("item %d's message", i).isNotNull();
                assertThat(message.body()).isEqualTo(digest("d-" + i));
                assertThat(message.messageAttributes().get(QueuedBatch.BATCH_ID_ATTRIBUTE).stringValue()).isEqualTo(batchId);
                assertThat(message.messageAttributes().get(QueuedBatch.ITEM_INDEX_ATTRIBUTE).stringValue())
                        .isEqualTo(Integer.toString(i));
            }
        }

        @Test
        void aRequestOverTheSynchronousLimitsIsQueuedWithoutBeingAsked() {
            String queue = sqs.createQueue("work-over-limit");

            Response response = invoke(queued(queue, FaultySqsClient.Faults.none()),
                    Format.HTTP_API_V2.event(items(1_001, i -> digest("d-" + i))));

            assertThat(response.status()).isEqualTo(202);
            assertThat(response.headers()).doesNotContainKey("Preference-Applied");
            assertThat(response.body().get("queued").asInt()).isEqualTo(1_001);
            assertThat(sqs.depth(queue)).isEqualTo(1_001);
        }

        @Test
        void malformedItemsAndUnknownTypesAreListedNotQueued() {
            String queue = sqs.createQueue("work-malformed");
            ObjectNode event = Format.HTTP_API_V2.event("{\"items\":[" + digest("a") + ",\"text\",{\"type\":\"teleport\"},"
                    + digest("b") + "]}");
            Format.HTTP_API_V2.withHeader(event, "Prefer", "respond-async");

            Response response = invoke(queued(queue, FaultySqsClient.Faults.none()), event);

            JsonNode entries = response.body().get("items");
            assertThat(entries.get(0).has("messageId")).isTrue();
            assertThat(entries.get(1).get("reason").asText()).isEqualTo("rejected: item must be a JSON object, was a string");
            assertThat(entries.get(1).get("retryable").asBoolean()).isFalse();
            assertThat(entries.get(2).get("reason").asText())
                    .isEqualTo("rejected: unknown item type 'teleport' (known types: blob, digest)");
            assertThat(entries.get(3).has("messageId")).isTrue();
            assertThat(response.body().get("queued").asInt()).isEqualTo(2);
            assertThat(sqs.depth(queue)).isEqualTo(2);
        }

        @Test
        void aWorkQueueThatRefusesSomeEntriesGetsExactlyThoseListed() {
            String queue = sqs.createQueue("work-faulty");
            ObjectNode event = Format.HTTP_API_V2.event(items(200, i -> digest("d-" + i)));
            Format.HTTP_API_V2.withHeader(event, "Prefer", "respond-async");
            // a fifth of the entries refused as the sender's fault: not retried, so they stay off the queue
            var faults = new FaultySqsClient.Faults(0, 0, 20, 100, 0, 0);

            Response response = invoke(queued(queue, faults), event);

            Set<Integer> listedQueued = new HashSet<>();
            Set<Integer> listedNot = new HashSet<>();
            response.body().get("items").forEach(e -> {
                if (e.has("messageId")) {
                    listedQueued.add(e.get("index").asInt());
                } else {
                    assertThat(e.get("reason").asText()).startsWith("not queued: SQS refused the entry: InvalidParameterValue");
                    assertThat(e.get("retryable").asBoolean()).isTrue();
                    listedNot.add(e.get("index").asInt());
                }
            });
            Set<Integer> onQueue = new HashSet<>();
            for (Message m : sqs.drain(queue)) {
                onQueue.add(Integer.valueOf(m.messageAttributes().get(QueuedBatch.ITEM_INDEX_ATTRIBUTE).stringValue()));
            }
            assertThat(listedNot).isNotEmpty().doesNotContainAnyElementsOf(onQueue);
            assertThat(listedQueued).isEqualTo(onQueue);
            assertThat(listedQueued.size() + listedNot.size()).isEqualTo(200);
            assertThat(response.body().get("notQueued").asInt()).isEqualTo(listedNot.size());
        }

        @Test
        void aFifoWorkQueueGetsAGroupPerItemOrTheItemsOwnAndADeduplicationId() {
            String queue = sqs.createQueue("work.fifo");
            ObjectNode event = Format.HTTP_API_V2.event("{\"items\":[" + digest("a")
                    + ",{\"type\":\"digest\",\"group\":\"g1\",\"payload\":{\"data\":\"y\"}}]}");
            Format.HTTP_API_V2.withHeader(event, "Prefer", "respond-async");

            Response response = invoke(queued(queue, FaultySqsClient.Faults.none()), event);

            String batchId = response.body().get("batchId").asText();
            List<String> groups = new ArrayList<>();
            for (Message m : sqs.drain(queue)) {
                groups.add(m.attributesAsStrings().get("MessageGroupId"));
            }
            assertThat(groups).containsExactlyInAnyOrder(batchId + "-0", "g1");
        }

        @Test
        void withoutAWorkQueuePreferIsIgnoredAndTheBatchRunsSynchronously() {
            ObjectNode event = Format.REST_API.event(items(2, i -> digest("d-" + i)));
            Format.REST_API.withHeader(event, "Prefer", "respond-async");

            Response response = invoke(SYNC, event);

            assertThat(response.status()).isEqualTo(200);
            assertThat(response.headers()).doesNotContainKey("Preference-Applied");
            assertThat(response.body().at("/summary/succeeded").asInt()).isEqualTo(2);
        }
    }
}
