package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.testing.FanoutSettings;
import dev.fanout.batch.RecordBatch;
import dev.fanout.batch.ResultMessages;
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
import dev.fanout.work.builtin.DelayFunction;
import dev.fanout.work.builtin.DigestFunction;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/** The SQS path in process, against a real SQS-compatible queue (embedded ElasticMQ). */
class SqsBatchProcessorTest {

    static final ObjectMapper MAPPER = dev.fanout.testing.JacksonBindings.recording(new ObjectMapper());
    static final ElasticMq sqs = ElasticMq.shared();

    static ItemFunctions handlers() {
        return TestFunctions.builder(MAPPER)
                .add(new DigestFunction(1_000_000))
                .add(new DelayFunction(Duration.ofMinutes(1)))
                // a user's handler: returns its payload's text as the output
                .register("echo", (payload, context) -> Map.of("text", payload.path("text").asText()))
                .build();
    }

    static SqsBatchProcessor processor(SqsClient client, String queueUrl, Limits limits) {
        var sinkSettings = FanoutSettings.results(queueUrl);
        return new SqsBatchProcessor(new RecordBatch(new WorkerPool(limits), handlers(), new ItemParser(MAPPER, Optional.empty()),
                new SqsResultsSink(client, sinkSettings), MAPPER,
                new RecordBatch.Settings(Duration.ofMillis(100), sinkSettings.fifo())));
    }

    static SqsBatchProcessor processor(String queueUrl) {
        return processor(sqs.client(), queueUrl, Limits.of(64).withCutoffMargin(Duration.ofSeconds(1)));
    }

    static List<String> failedIds(SQSBatchResponse response) {
        return response.getBatchItemFailures().stream().map(SQSBatchResponse.BatchItemFailure::getItemIdentifier).toList();
    }

    static Map<String, JsonNode> resultsBySource(List<Message> messages) {
        Map<String, JsonNode> results = new HashMap<>();
        for (Message m : messages) {
            JsonNode result = readTree(m.body());
            results.put(result.get("sourceMessageId").asText(), result);
        }
        return results;
    }

    /**
     * The promise, record by record, for a batch of records {@code m-0..m-(n-1)}: every acknowledged record has
     * its result on the queue; for a FIFO source, each group's results are on the queue in record order, and
     * once a group has a reported record every later one is reported too; the summary counts what was handed
     * back. Returns the reported message ids.
     */
    static Set<String> assertPromiseKept(SqsBatchProcessor.Invocation invocation, List<Message> drained,
            List<String> groups, boolean fifo, Object faults) {
        int n = groups.size();
        Set<String> reported = new HashSet<>(failedIds(invocation.response()));
        Map<String, JsonNode> onQueue = resultsBySource(drained);
        if (fifo) {
            Map<String, Integer> lastOfGroup = new HashMap<>();
            for (Message m : drained) {
                int index = Integer.parseInt(readTree(m.body()).get("sourceMessageId").asText().substring(2));
                Integer previous = lastOfGroup.put(groups.get(index), index);
                assertThat(previous == null || previous < index).as("m-%d after m-%s in group %s (faults %s)", index,
                        previous, groups.get(index), faults).isTrue();
            }
        }
        int acknowledged = 0;
        Set<String> broken = new HashSet<>();
        for (int i = 0; i < n; i++) {
            String id = "m-" + i;
            boolean isReported = reported.contains(id);
            if (!isReported) {
                acknowledged++;
                assertThat(onQueue).as("acknowledged record %s (faults %s)", id, faults).containsKey(id);
            }
            if (fifo && broken.contains(groups.get(i))) {
                assertThat(isReported).as("m-%d after a reported record of %s", i, groups.get(i)).isTrue();
            }
            if (fifo && isReported) {
                broken.add(groups.get(i));
            }
        }
        assertThat(invocation.summary().get("batchItemFailures").asInt()).isEqualTo(n - acknowledged);
        return reported;
    }

    static JsonNode readTree(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static List<String> ids(SQSEvent event) {
        return event.getRecords().stream().map(SQSEvent.SQSMessage::getMessageId).toList();
    }

    @Nested
    class RealEventFixtures {

        @Test
        void standardQueueAcknowledgesFinalOutcomesOnceTheirResultsAreOut() {
            String queue = sqs.createQueue("results-standard");
            SQSEvent event = SqsEvents.parse(SqsEvents.fixture("sqs-standard.json"));
            List<String> ids = ids(event);

            var invocation = processor(queue).process(event, Deadline.after(Duration.ofSeconds(30)));

            // only the retryable failure comes back; malformed, unknown and permanent ones are acknowledged
            assertThat(failedIds(invocation.response())).containsExactly(ids.get(5));
            List<Message> messages = sqs.drain(queue);
            Map<String, JsonNode> results = resultsBySource(messages);
            assertThat(results.keySet()).containsExactlyInAnyOrder(ids.get(0), ids.get(1), ids.get(2), ids.get(3),
                    ids.get(4), ids.get(6));
            JsonNode digest = results.get(ids.get(0));
            assertThat(digest.get("itemId").asText()).isEqualTo("order-1");
            assertThat(digest.get("status").asText()).isEqualTo("succeeded");
            assertThat(digest.at("/output/rounds").asInt()).isEqualTo(3);
            assertThat(digest.at("/output/sha256").asText()).hasSize(64);
            assertThat(digest.get("attempt").asInt()).isEqualTo(1);
            assertThat(results.get(ids.get(1)).get("itemId").asText()).isEqualTo(ids.get(1));
            assertThat(results.get(ids.get(2)).at("/error/message").asText())
                    .startsWith("item is not valid JSON: Unexpected end-of-input");
            assertThat(results.get(ids.get(3)).at("/error/message").asText())
                    .isEqualTo("unknown item type 'teleport' (known types: delay, digest, echo)");
            assertThat(results.get(ids.get(4)).get("status").asText()).isEqualTo("failed");
            assertThat(results.get(ids.get(4)).at("/error/retryable").asBoolean()).isFalse();
            assertThat(results.get(ids.get(4)).at("/error/message").asText()).isEqualTo("delay: injected permanent failure");
            assertThat(results.get(ids.get(6)).at("/error/message").asText())
                    .startsWith("item is not valid JSON: Unrecognized token 'Test'");
            // the status travels as a message attribute, for consumers' filters
            for (Message m : messages) {
                assertThat(m.messageAttributes().get("status").stringValue())
                        .isEqualTo(readTree(m.body()).get("status").asText());
            }
            // results stream out as items end, so items that end apart may take a request each; never more
            assertThat(invocation.summary().get("sendRequests").asInt()).isBetween(1, 6);
        }

        @Test
        void fifoGroupStopsAtItsFailureWhileTheOtherGroupCompletes() {
            String queue = sqs.createQueue("results.fifo");
            SQSEvent event = SqsEvents.parse(SqsEvents.fixture("sqs-fifo.json"));
            List<String> ids = ids(event); // a1 b1 a2 b2 a3 b3 a4 b4

            var invocation = processor(queue).process(event, Deadline.after(Duration.ofSeconds(30)));

            assertThat(failedIds(invocation.response())).containsExactly(ids.get(3), ids.get(5), ids.get(7));
            List<Message> messages = sqs.drain(queue);
            assertThat(messages).extracting(m -> readTree(m.body()).get("itemId").asText())
                    .containsExactlyInAnyOrder("a1", "a2", "a3", "a4", "b1");
            for (Message m : messages) {
                JsonNode result = readTree(m.body());
                assertThat(m.attributes().get(software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName.MESSAGE_GROUP_ID))
                        .isEqualTo(result.get("itemId").asText().startsWith("a") ? "g-a" : "g-b");
            }
            // group order is kept on the FIFO results queue
            assertThat(messages.stream().map(m -> readTree(m.body()).get("itemId").asText())
                    .filter(id -> id.startsWith("a")).toList()).containsExactly("a1", "a2", "a3", "a4");
        }

        @Test
        void aFifoGroupGoesOnAfterARecordItAcknowledgesWithAnError() {
            String queue = sqs.createQueue("results-fifo-malformed");
            List<String> bodies = List.of(SqsEvents.item("digest", "{\"data\":\"1\"}"), "{broken",
                    SqsEvents.item("delay", "{\"failRate\":1,\"permanent\":true}"),
                    SqsEvents.item("digest", "{\"data\":\"4\"}"));
            var invocation = processor(queue).process(SqsEvents.parse(SqsEvents.fifo(bodies, List.of("g", "g", "g", "g"))),
                    Deadline.after(Duration.ofSeconds(30)));

            assertThat(invocation.response().getBatchItemFailures()).isEmpty();
            assertThat(resultsBySource(sqs.drain(queue))).extractingFromEntries(e -> e.getValue().get("status").asText())
                    .containsExactlyInAnyOrder("succeeded", "rejected", "failed", "succeeded");
        }

        @Test
        void aStandardQueueWithFairQueueingIsNotSerialisedByGroup() {
            String queue = sqs.createQueue("results-fair");
            // standard queues with fair queueing carry a MessageGroupId; only a .fifo source orders by it
            String json = SqsEvents.standard(List.of(SqsEvents.item("delay", "{\"failRate\":1}"),
                    SqsEvents.item("digest", "{\"data\":\"x\"}")))
                    .replace("\"ApproximateReceiveCount\":\"1\"", "\"ApproximateReceiveCount\":\"1\",\"MessageGroupId\":\"tenant-1\"");
            var invocation = processor(queue).process(SqsEvents.parse(json), Deadline.after(Duration.ofSeconds(30)));

            assertThat(failedIds(invocation.response())).containsExactly("m-0");
            assertThat(invocation.summary().get("fifo").asBoolean()).isFalse();
        }

        @Test
        void anOutputThatCannotBeWrittenAsJsonGetsAnErrorResultAndDoesNotFailTheBatch() {
            String queue = sqs.createQueue("results-unwritable");
            var handlers = TestFunctions.builder(MAPPER).register("deep", (payload, context) -> {
                var root = MAPPER.createArrayNode();
                var node = root;
                for (int i = 0; i < 2_000; i++) {
                    node = node.addArray(); // deeper than Jackson writes
                }
                return root;
            }).add(new DigestFunction(10)).build();
            var sinkSettings = FanoutSettings.results(queue);
            var processor = new SqsBatchProcessor(new RecordBatch(new WorkerPool(Limits.of(4).withCutoffMargin(Duration.ofSeconds(1))),
                    handlers, new ItemParser(MAPPER, Optional.empty()), new SqsResultsSink(sqs.client(), sinkSettings),
                    MAPPER, new RecordBatch.Settings(Duration.ofMillis(100), false)));

            var invocation = processor.process(SqsEvents.parse(SqsEvents.standard(List.of(SqsEvents.item("deep", "{}"),
                    SqsEvents.item("digest", "{\"data\":\"x\"}")))), Deadline.after(Duration.ofSeconds(30)));

            assertThat(invocation.response().getBatchItemFailures()).isEmpty();
            JsonNode deep = resultsBySource(sqs.drain(queue)).get("m-0");
            assertThat(deep.at("/error/type").asText()).isEqualTo("OutputNotWritable");
            assertThat(deep.at("/error/message").asText()).startsWith("the result could not be written as JSON: ");
        }

        @Test
        void emptyRecordsGetAnEmptyResponse() {
            String queue = sqs.createQueue("results-empty");
            var invocation = processor(queue).process(SqsEvents.parse(SqsEvents.fixture("sqs-empty.json")),
                    Deadline.after(Duration.ofSeconds(5)));
            assertThat(invocation.response().getBatchItemFailures()).isEmpty();
            assertThat(sqs.drain(queue)).isEmpty();
        }
    }

    @Nested
    class Deadlines {

        @Test
        void exactlyTheUnfinishedRecordsComeBack() {
            String queue = sqs.createQueue("results-deadline");
            List<String> bodies = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                bodies.add(SqsEvents.item("delay", "{\"millis\":" + (i % 2 == 0 ? 10 : 10_000) + "}"));
            }
            SQSEvent event = SqsEvents.parse(SqsEvents.standard(bodies));
            Deadline deadline = Deadline.after(Duration.ofSeconds(2));

            var invocation = processor(sqs.client(), queue,
                    Limits.of(32).withCutoffMargin(Duration.ofMillis(600)).withCancelGrace(Duration.ofMillis(50)))
                    .process(event, deadline);

            assertThat(deadline.isExpired()).isFalse();
            List<String> slow = IntStream.range(0, 20).filter(i -> i % 2 == 1).mapToObj(i -> "m-" + i).toList();
            assertThat(failedIds(invocation.response())).containsExactlyInAnyOrderElementsOf(slow);
            assertThat(resultsBySource(sqs.drain(queue)).keySet()).containsExactlyInAnyOrderElementsOf(
                    IntStream.range(0, 20).filter(i -> i % 2 == 0).mapToObj(i -> "m-" + i).toList());
        }

        @Test
        void aMarginLargerThanTheTimeLeftHandsEverythingBack() {
            String queue = sqs.createQueue("results-no-time");
            SQSEvent event = SqsEvents.parse(SqsEvents.standard(List.of(SqsEvents.item("delay", "{}"),
                    SqsEvents.item("delay", "{}"))));
            var invocation = processor(sqs.client(), queue, Limits.of(8).withCutoffMargin(Duration.ofSeconds(5)))
                    .process(event, Deadline.after(Duration.ofSeconds(1)));
            assertThat(failedIds(invocation.response())).containsExactly("m-0", "m-1");
            assertThat(sqs.drain(queue)).isEmpty();
        }
    }

    @Nested
    class EdgeCases {

        @Test
        void tenThousandRecords() {
            String queue = sqs.createQueue("results-10k");
            List<String> bodies = IntStream.range(0, 10_000)
                    .mapToObj(i -> SqsEvents.item("delay", "{\"millis\":20}")).toList();
            SQSEvent event = SqsEvents.parse(SqsEvents.standard(bodies));

            var invocation = processor(sqs.client(), queue, Limits.of(500).withCutoffMargin(Duration.ofSeconds(5)))
                    .process(event, Deadline.after(Duration.ofSeconds(60)));

            assertThat(invocation.response().getBatchItemFailures()).isEmpty();
            assertThat(invocation.summary().get("succeeded").asInt()).isEqualTo(10_000);
            assertThat(invocation.summary().get("delivered").asInt()).isEqualTo(10_000);
            // streamed while the batch runs: requests stay full but for a few a linger sent before they filled
            assertThat(invocation.summary().get("sendRequests").asInt()).isBetween(1_000, 1_100);
            assertThat(resultsBySource(sqs.drain(queue))).hasSize(10_000);
        }

        @Test
        void bodiesNearOneMebibyteAndUnicodeSurviveIntact() {
            String queue = sqs.createQueue("results-large");
            // 4-byte and 3-byte characters: the byte limits must count UTF-8 bytes, not chars
            String text = "🚀 Grüße, 世界 ".repeat(40_000); // ~ 900 KB of UTF-8 in the output
            String huge = "x".repeat(1_100_000);
            SQSEvent event = SqsEvents.parse(SqsEvents.standard(List.of(
                    SqsEvents.item("echo", MAPPER.createObjectNode().put("text", text).toString()),
                    SqsEvents.item("echo", MAPPER.createObjectNode().put("text", huge).toString()))));

            var invocation = processor(queue).process(event, Deadline.after(Duration.ofSeconds(30)));

            assertThat(invocation.response().getBatchItemFailures()).isEmpty();
            Map<String, JsonNode> results = resultsBySource(sqs.drain(queue));
            assertThat(results.get("m-0").at("/output/text").asText()).isEqualTo(text);
            JsonNode tooLarge = results.get("m-1");
            assertThat(tooLarge.get("status").asText()).isEqualTo("failed");
            assertThat(tooLarge.at("/error/type").asText()).isEqualTo("OutputTooLarge");
            assertThat(tooLarge.at("/error/message").asText()).matches(
                    "the result is \\d+ bytes, more than the results queue's 1048576-byte message limit; "
                            + "the output was dropped, not truncated");
            assertThat(invocation.summary().get("outputTooLarge").asInt()).isEqualTo(1);
        }

        @Test
        void aRepeatedMessageIdIsReportedOnceWhenAnyCopyIsUnfinished() {
            String queue = sqs.createQueue("results-repeat");
            String json = SqsEvents.standard(List.of(SqsEvents.item("delay", "{}"),
                    SqsEvents.item("delay", "{\"failRate\":1.0}"), SqsEvents.item("delay", "{}")))
                    .replace("\"m-1\"", "\"m-0\""); // records 0 and 1 share a message id
            var invocation = processor(queue).process(SqsEvents.parse(json), Deadline.after(Duration.ofSeconds(30)));

            assertThat(failedIds(invocation.response())).containsExactly("m-0");
            assertThat(sqs.drain(queue)).hasSize(2); // the finished copy of m-0, and m-2
        }
    }

    /** Records whose results SQS would refuse, end to end against ElasticMQ: each one is acknowledged with its result. */
    @Nested
    class PoisonRecords {

        @Test
        void aBodyThatStartsWithAnEmojiAndAnIdThatIsALoneSurrogateAreAcknowledgedWithTheirResults() {
            String queue = sqs.createQueue("results-poison");
            SQSEvent event = SqsEvents.parse(SqsEvents.standard(List.of("\uD83D\uDE80 not json",
                    "{\"id\":\"\\ud83d\",\"type\":\"digest\",\"payload\":{\"data\":\"x\"}}",
                    SqsEvents.item("echo", "{\"text\":\"half \\udc00 a pair, and \\uffff\"}"))));

            var invocation = processor(queue).process(event, Deadline.after(Duration.ofSeconds(30)));

            assertThat(invocation.response().getBatchItemFailures()).isEmpty();
            assertThat(invocation.summary().get("refusedResults").asInt()).isZero();
            Map<String, JsonNode> results = resultsBySource(sqs.drain(queue));
            assertThat(results.get("m-0").get("status").asText()).isEqualTo("rejected");
            assertThat(results.get("m-0").at("/error/message").asText()).startsWith("item is not valid JSON: Unexpected character ('\uD83D'");
            assertThat(results.get("m-1").get("itemId").asText()).isEqualTo("\uD83D");
            assertThat(results.get("m-1").get("status").asText()).isEqualTo("succeeded");
            assertThat(results.get("m-2").at("/output/text").asText()).isEqualTo("half \uDC00 a pair, and \uFFFF");
        }

        @Test
        void aRecordWithoutAMessageIdThatMustComeBackHandsTheWholeBatchBack() {
            String queue = sqs.createQueue("results-no-id");
            String json = SqsEvents.standard(List.of(SqsEvents.item("delay", "{}"), SqsEvents.item("delay", "{\"failRate\":1.0}")))
                    .replace("\"messageId\":\"m-1\",", "");

            var invocation = processor(queue).process(SqsEvents.parse(json), Deadline.after(Duration.ofSeconds(30)));

            // an empty itemIdentifier: Lambda's contract for "the whole batch failed"; never the text "null"
            assertThat(failedIds(invocation.response())).containsExactly("");
            assertThat(invocation.summary().get("wholeBatchHandedBack").asText())
                    .isEqualTo("a record without a messageId could not be acknowledged");
        }

        @Test
        void aRecordWithoutAMessageIdThatIsDoneIsAcknowledgedWithAResultWithoutASourceId() {
            String queue = sqs.createQueue("results-no-id-done");
            String json = SqsEvents.standard(List.of(SqsEvents.item("delay", "{}"))).replace("\"messageId\":\"m-0\",", "");

            var invocation = processor(queue).process(SqsEvents.parse(json), Deadline.after(Duration.ofSeconds(30)));

            assertThat(invocation.response().getBatchItemFailures()).isEmpty();
            JsonNode result = readTree(sqs.drain(queue).getFirst().body());
            assertThat(result.has("sourceMessageId")).isFalse();
            assertThat(result.get("itemId").asText()).isEqualTo("record-0");
        }
    }

    /**
     * Faults on the results queue, many rounds: whatever happens, an acknowledged record has its result on
     * the queue. Without faults, every final record is acknowledged.
     */
    @Nested
    class FaultInjection {

        @ParameterizedTest
        @ValueSource(longs = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
                24, 25 })
        void anAcknowledgedRecordAlwaysHasItsResultOnTheQueue(long seed) {
            var random = new Random(seed);
            boolean fifo = seed % 3 == 0;
            String queue = sqs.createQueue("results-faults-" + seed + (fifo ? ".fifo" : ""));
            var faults = new FaultySqsClient.Faults(random.nextInt(30), random.nextInt(30), random.nextInt(40),
                    random.nextInt(50), random.nextInt(20), random.nextInt(20_000), random.nextInt(15));
            var client = new FaultySqsClient(sqs.client(), faults, seed);
            int n = 50 + random.nextInt(250);
            List<String> bodies = new ArrayList<>();
            List<String> groups = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int roll = random.nextInt(10);
                bodies.add(roll == 0 ? "{not json" : roll == 1
                        ? SqsEvents.item("delay", "{\"failRate\":1.0}")
                        : roll == 2 ? "\uD83D\uDE80 not json " + i // its rejection reason holds a lone surrogate
                        : SqsEvents.item("digest", "{\"data\":\"" + i + "\"}"));
                groups.add("g" + random.nextInt(4));
            }
            String json = fifo ? SqsEvents.fifo(bodies, groups) : SqsEvents.standard(bodies);
            var processor = processor(client, queue, Limits.of(16).withCutoffMargin(Duration.ofSeconds(2)));

            var invocation = processor.process(SqsEvents.parse(json), Deadline.after(Duration.ofSeconds(4)));

            Set<String> reported = assertPromiseKept(invocation, sqs.drain(queue), groups, fifo, faults);
            for (int i = 0; i < n; i++) {
                if (bodies.get(i).contains("failRate")) {
                    assertThat(reported).as("retryable failure m-%d", i).contains("m-" + i);
                }
            }
        }

        @Test
        void withoutFaultsEveryFinalRecordIsAcknowledged() {
            String queue = sqs.createQueue("results-no-faults");
            var client = new FaultySqsClient(sqs.client(), FaultySqsClient.Faults.none(), 1);
            List<String> bodies = IntStream.range(0, 100).mapToObj(i -> SqsEvents.item("digest", "{\"data\":\"x\"}")).toList();
            var invocation = processor(client, queue, Limits.of(16).withCutoffMargin(Duration.ofSeconds(2)))
                    .process(SqsEvents.parse(SqsEvents.standard(bodies)), Deadline.after(Duration.ofSeconds(10)));
            assertThat(invocation.response().getBatchItemFailures()).isEmpty();
            assertThat(sqs.drain(queue)).hasSize(100);
        }

        @Test
        void throttledAndFailedEntriesAreRetriedUntilTheyLand() {
            String queue = sqs.createQueue("results-retried");
            // every call has a 50% chance of a throttle, every entry 30% of an in-200 failure; no sender faults
            var client = new FaultySqsClient(sqs.client(), new FaultySqsClient.Faults(50, 0, 30, 0, 0, 0), 7);
            var sinkSettings = new SqsResultsSink.Settings(queue, SqsResultsSink.SQS_MAX_BYTES, SqsResultsSink.SQS_MAX_BYTES,
                    4, 30, Duration.ofMillis(1), Duration.ofMillis(20), Duration.ofMillis(50));
            var processor = new SqsBatchProcessor(new RecordBatch(new WorkerPool(Limits.of(8).withCutoffMargin(Duration.ofSeconds(5))),
                    handlers(), new ItemParser(MAPPER, Optional.empty()), new SqsResultsSink(client, sinkSettings), MAPPER,
                    new RecordBatch.Settings(Duration.ofMillis(100), false)));
            List<String> bodies = IntStream.range(0, 100).mapToObj(i -> SqsEvents.item("digest", "{\"data\":\"x\"}")).toList();

            var invocation = processor.process(SqsEvents.parse(SqsEvents.standard(bodies)), Deadline.after(Duration.ofSeconds(20)));

            assertThat(invocation.response().getBatchItemFailures()).isEmpty();
            assertThat(resultsBySource(sqs.drain(queue))).hasSize(100);
            assertThat(invocation.summary().get("sendRetries").asInt()).isPositive();
            assertThat(invocation.summary().get("throttled").asInt()).isPositive();
        }
    }

    /** A mapper that cannot write any ResultRecord, as a native image without its reflection data could not. */
    /** Jackson writes only a result's output (the rest is written by hand): this mapper cannot write an object one. */
    static ObjectMapper mapperThatCannotWriteOutputs() {
        var module = new com.fasterxml.jackson.databind.module.SimpleModule("unwritable-outputs");
        module.addSerializer(ObjectNode.class, new com.fasterxml.jackson.databind.JsonSerializer<>() {
            @Override
            public void serialize(ObjectNode value, com.fasterxml.jackson.core.JsonGenerator gen,
                    com.fasterxml.jackson.databind.SerializerProvider serializers) {
                throw new IllegalStateException("no serializer for " + value.getClass().getName());
            }
        });
        return new ObjectMapper().registerModule(module);
    }

    @Nested
    class UnwritableResults {

        @Test
        void becomeHandWrittenErrorResultsAndTheBatchGoesOn() {
            String queue = sqs.createQueue("results-unserializable");
            ObjectMapper broken = mapperThatCannotWriteOutputs();
            var sinkSettings = FanoutSettings.results(queue);
            var processor = new SqsBatchProcessor(new RecordBatch(new WorkerPool(Limits.of(8).withCutoffMargin(Duration.ofSeconds(1))),
                    handlers(), new ItemParser(broken, Optional.empty()), new SqsResultsSink(sqs.client(), sinkSettings),
                    broken, new RecordBatch.Settings(Duration.ofMillis(100), false)));
            SQSEvent event = SqsEvents.parse(SqsEvents.standard(List.of(SqsEvents.item("digest", "{\"data\":\"x\"}"),
                    SqsEvents.item("echo", "{\"text\":\"\\ud800 lone\"}"), "not json")));

            var invocation = processor.process(event, Deadline.after(Duration.ofSeconds(10)));

            // every record's outcome is final and its (error) result is on the queue: nothing comes back
            assertThat(failedIds(invocation.response())).isEmpty();
            List<Message> messages = sqs.drain(queue);
            assertThat(messages).hasSize(3);
            Map<String, JsonNode> results = resultsBySource(messages);
            List<String> ids = ids(event);
            for (String id : ids.subList(0, 2)) {
                JsonNode result = results.get(id);
                assertThat(result.get("status").asText()).isEqualTo("failed");
                assertThat(result.at("/error/type").asText()).isEqualTo("OutputNotWritable");
                assertThat(result.at("/error/message").asText()).isEqualTo("the result could not be written as JSON: "
                        + "no serializer for com.fasterxml.jackson.databind.node.ObjectNode");
                assertThat(result.has("output")).isFalse();
            }
            // a result without an output never meets Jackson: the rejected record's is written as it is
            assertThat(results.get(ids.get(2)).get("status").asText()).isEqualTo("rejected");
            assertThat(messages).extracting(m -> m.messageAttributes().get(ResultMessages.STATUS_ATTRIBUTE).stringValue())
                    .containsExactlyInAnyOrder("failed", "failed", "rejected");
        }
    }

    @org.junit.jupiter.api.Test
    void anInvocationWhoseItemsTookPermitsCarriesTheLimitsFiguresAndTheNextOneWithoutNone() {
        String queue = sqs.createQueue("results-limits");
        var limits = new dev.fanout.work.limits.ServiceLimits(new dev.fanout.work.limits.LimitSettings(true,
                dev.fanout.work.limits.LimitAlgorithm.AIMD, 20, 2, 100, 16));
        var handlers = TestFunctions.builder(MAPPER).serviceLimits(limits).register("db", (payload, context) -> {
            try (var permit = context.permit("orders-db")) {
                permit.success();
                return Map.of("ok", true);
            }
        }).add(new DigestFunction(10)).build();
        var sinkSettings = FanoutSettings.results(queue);
        var processor = new SqsBatchProcessor(new RecordBatch(new WorkerPool(Limits.of(4).withCutoffMargin(Duration.ofSeconds(1))),
                handlers, new ItemParser(MAPPER, Optional.empty()), new SqsResultsSink(sqs.client(), sinkSettings),
                MAPPER, new RecordBatch.Settings(Duration.ofMillis(100), false)));

        var first = processor.process(SqsEvents.parse(SqsEvents.standard(List.of(SqsEvents.item("db", "{}"),
                SqsEvents.item("db", "{}")))), Deadline.after(Duration.ofSeconds(30)));
        var second = processor.process(SqsEvents.parse(SqsEvents.standard(List.of(SqsEvents.item("digest",
                "{\"data\":\"x\"}")))), Deadline.after(Duration.ofSeconds(30)));

        assertThat(first.response().getBatchItemFailures()).isEmpty();
        assertThat(first.summary().get("limitLowest").asInt()).isEqualTo(20);
        assertThat(first.summary().get("limitHighest").asInt()).isEqualTo(20);
        assertThat(first.summary().get("limitedServices").asInt()).isEqualTo(1);
        assertThat(first.summary().get("permitsWaited").asInt()).isZero();
        assertThat(second.summary().has("limitLowest")).isFalse();
        sqs.drain(queue);
    }
}
