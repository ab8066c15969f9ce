package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.testing.FanoutSettings;
import dev.fanout.batch.RecordBatch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.FaultySqsClient;
import dev.fanout.testing.JacksonBindings;
import dev.fanout.testing.SqsEvents;
import dev.fanout.testing.StreamEvents;
import dev.fanout.testing.StreamEvents.Put;
import dev.fanout.work.ItemParser;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.builtin.DelayFunction;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * The stream entry points in process: real event fixtures (events/) and generated events of their shape, read
 * as Quarkus's Lambda runtime reads them; results on a real SQS-compatible queue (embedded ElasticMQ); the exact
 * sequence number Lambda is told to resume at.
 */
class StreamBatchProcessorTest {

    static final ObjectMapper MAPPER = JacksonBindings.recording(new ObjectMapper());
    static final ElasticMq sqs = ElasticMq.shared();
    static final ObjectMapper EXACT = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(com.fasterxml.jackson.databind.cfg.JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES).build();
    static final Duration DEADLINE = Duration.ofSeconds(30);

    /** Start and end tickets of the items that ran, by their payload's "n": the order items ran in. */
    final AtomicInteger clock = new AtomicInteger();
    final AtomicIntegerArray started = new AtomicIntegerArray(64);
    final AtomicIntegerArray ended = new AtomicIntegerArray(64);
    final CyclicBarrier bothKeys = new CyclicBarrier(2);
    final Map<Integer, AtomicInteger> onceAttempts = new java.util.concurrent.ConcurrentHashMap<>();

    ItemFunctions handlers() {
        return TestFunctions.builder(MAPPER)
                .add(new DelayFunction(Duration.ofMinutes(1)))
                .register("echo", (payload, context) -> {
                    int n = payload.path("n").asInt();
                    started.set(n, clock.incrementAndGet());
                    ended.set(n, clock.incrementAndGet());
                    return Map.of("n", n);
                })
                // runs only if another key's item runs at the same time
                .register("meet", (payload, context) -> {
                    bothKeys.await(10, TimeUnit.SECONDS);
                    return Map.of("met", true);
                })
                .register("flaky", (payload, context) -> {
                    throw new IllegalStateException("the service said 503");
                })
                .register("poison", (payload, context) -> {
                    throw new NonRetryableException("order 17 does not exist");
                })
                .register("change", (payload, context) -> payload)
                // fails its first attempt, then runs as echo
                .register("once", (payload, context) -> {
                    int n = payload.path("n").asInt();
                    if (onceAttempts.computeIfAbsent(n, k -> new AtomicInteger()).incrementAndGet() == 1) {
                        throw new IllegalStateException("the service said 503");
                    }
                    started.set(n, clock.incrementAndGet());
                    ended.set(n, clock.incrementAndGet());
                    return Map.of("n", n);
                })
                .build();
    }

    StreamBatchProcessor processor(SqsClient client, String queueUrl, Limits limits, Optional<String> dynamodbType) {
        var sinkSettings = FanoutSettings.results(queueUrl);
        ItemParser parser = new ItemParser(MAPPER, Optional.empty());
        return new StreamBatchProcessor(new RecordBatch(new WorkerPool(limits), handlers(), parser,
                new SqsResultsSink(client, sinkSettings), MAPPER,
                new RecordBatch.Settings(Duration.ofMillis(100), sinkSettings.fifo())), parser, dynamodbType);
    }

    StreamBatchProcessor processor(String queueUrl) {
        return processor(sqs.client(), queueUrl, Limits.of(64).withCutoffMargin(Duration.ofSeconds(1)),
                Optional.of("change"));
    }

    static List<String> reported(StreamsEventResponse response) {
        return response.getBatchItemFailures().stream().map(StreamsEventResponse.BatchItemFailure::getItemIdentifier)
                .toList();
    }

    static Map<String, JsonNode> resultsBySource(List<Message> messages) {
        Map<String, JsonNode> results = new HashMap<>();
        for (Message m : messages) {
            JsonNode result = SqsBatchProcessorTest.readTree(m.body());
            assertThat(results.put(result.get("sourceMessageId").asText(), result)).as("one result per record").isNull();
        }
        return results;
    }

    static String eventId(int i) {
        return StreamEvents.SHARD + ":" + StreamEvents.sequenceNumber(i);
    }

    static String echo(int n) {
        return StreamEvents.item("i-" + n, "echo", "{\"n\":" + n + "}");
    }

    static KinesisEvent kinesis(List<Put> puts) {
        return StreamEvents.kinesis(StreamEvents.kinesisEvent(puts).toString());
    }

    @Nested
    class Kinesis {

        @Test
        void theFixtureRunsEveryRecordAndReportsNothing() {
            String queue = sqs.createQueue("kinesis-fixture");
            KinesisEvent event = StreamEvents.kinesis(SqsEvents.fixture("kinesis-stream.json"));

            var invocation = processor(queue).kinesis(event, Deadline.after(DEADLINE), Optional.of("Root=1-abc"));

            assertThat(reported(invocation.response())).isEmpty();
            Map<String, JsonNode> results = resultsBySource(sqs.drain(queue));
            List<String> ids = event.getRecords().stream().map(KinesisEvent.KinesisEventRecord::getEventID).toList();
            assertThat(results.keySet()).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(results.get(ids.get(0)).get("itemId").asText()).isEqualTo("c1-a");
            assertThat(results.values()).allSatisfy(r -> assertThat(r.get("status").asText()).isEqualTo("succeeded"));
            assertThat(invocation.summary().get("event").asText()).isEqualTo("fanout.kinesis");
            assertThat(invocation.summary().get("notDone").asInt()).isZero();
        }

        @Test
        void recordsOfOneKeyRunInOrderAndKeysRunAtOnce() {
            String queue = sqs.createQueue("kinesis-order");
            List<Put> puts = new ArrayList<>();
            // a and b meet: each waits until the other runs, so the two keys cannot run one after the other
            puts.add(new Put("a", StreamEvents.item("meet-a", "meet", "{}")));
            puts.add(new Put("b", StreamEvents.item("meet-b", "meet", "{}")));
            for (int n = 2; n < 40; n++) {
                puts.add(new Put(n % 3 == 0 ? "a" : n % 3 == 1 ? "b" : "c", echo(n)));
            }

            var invocation = processor(queue).kinesis(kinesis(puts), Deadline.after(DEADLINE), Optional.empty());

            assertThat(reported(invocation.response())).isEmpty();
            Map<String, Integer> lastEnded = new HashMap<>();
            for (int n = 2; n < 40; n++) {
                String key = puts.get(n).partitionKey();
                Integer before = lastEnded.put(key, ended.get(n));
                assertThat(before == null || before < started.get(n)).as("record %d of key %s started after its "
                        + "predecessor ended", n, key).isTrue();
            }
            assertThat(resultsBySource(sqs.drain(queue))).hasSize(40);
        }

        @Test
        void theResponseNamesTheLowestSequenceNumberNotDoneAndFailuresForGoodAreAcknowledged() {
            String queue = sqs.createQueue("kinesis-checkpoint");
            List<Put> puts = List.of(
                    new Put("a", echo(0)),
                    new Put("b", echo(1)),
                    new Put("a", StreamEvents.item("a-flaky", "flaky", "{}")), // retryable: key a stops here
                    new Put("c", StreamEvents.item("c-poison", "poison", "{}")), // for good: acknowledged
                    new Put("a", echo(4)), // not started: its key stopped
                    new Put("b", StreamEvents.item("b-flaky", "flaky", "{}")), // retryable, but later than a's
                    new Put("c", echo(6)));

            var invocation = processor(queue).kinesis(kinesis(puts), Deadline.after(DEADLINE), Optional.empty());

            assertThat(reported(invocation.response())).containsExactly(StreamEvents.sequenceNumber(2));
            Map<String, JsonNode> results = resultsBySource(sqs.drain(queue));
            assertThat(results.keySet()).containsExactlyInAnyOrder(eventId(0), eventId(1), eventId(3), eventId(6));
            assertThat(results.get(eventId(3)).get("status").asText()).isEqualTo("failed");
            assertThat(results.get(eventId(3)).at("/error/message").asText()).isEqualTo("order 17 does not exist");
            assertThat(ended.get(4)).as("a's record after its failure did not run").isZero();
            assertThat(ended.get(6)).as("c goes on after a failure for good").isNotZero();
            assertThat(invocation.summary().get("checkpoint").asText()).isEqualTo(StreamEvents.sequenceNumber(2));
            assertThat(invocation.summary().get("notDone").asInt()).isEqualTo(3);
        }

        @Test
        void aRecordCutOffAtTheDeadlineIsWhereLambdaResumes() {
            String queue = sqs.createQueue("kinesis-deadline");
            List<Put> puts = List.of(
                    new Put("a", echo(0)),
                    new Put("b", echo(1)),
                    new Put("b", StreamEvents.item("b-slow", "delay", "{\"millis\":20000}")),
                    new Put("a", echo(3)),
                    new Put("b", echo(4)));
            Deadline deadline = Deadline.after(Duration.ofSeconds(2));

            var invocation = processor(sqs.client(), queue,
                    Limits.of(8).withCutoffMargin(Duration.ofMillis(600)).withCancelGrace(Duration.ofMillis(50)),
                    Optional.empty()).kinesis(kinesis(puts), deadline, Optional.empty());

            assertThat(deadline.isExpired()).isFalse();
            assertThat(reported(invocation.response())).containsExactly(StreamEvents.sequenceNumber(2));
            assertThat(resultsBySource(sqs.drain(queue)).keySet()).containsExactlyInAnyOrder(eventId(0), eventId(1),
                    eventId(3));
            assertThat(invocation.summary().get("timedOut").asInt()).isEqualTo(1);
        }

        @Test
        void aRecordWhoseResultIsNotConfirmedIsNotDone() {
            String queue = sqs.createQueue("kinesis-unconfirmed");
            List<Put> puts = List.of(new Put("a", echo(0)), new Put("b", echo(1)), new Put("c", echo(2)));
            // every entry of every SendMessageBatch fails (retryable): no result is ever confirmed
            var refusing = new FaultySqsClient(sqs.client(), new FaultySqsClient.Faults(0, 0, 100, 0, 0, 0), 7);

            var invocation = processor(refusing, queue,
                    Limits.of(8).withCutoffMargin(Duration.ofMillis(1500)), Optional.empty())
                    .kinesis(kinesis(puts), Deadline.after(Duration.ofSeconds(3)), Optional.empty());

            assertThat(reported(invocation.response())).containsExactly(StreamEvents.sequenceNumber(0));
            assertThat(invocation.summary().get("succeeded").asInt()).isEqualTo(3);
            assertThat(invocation.summary().get("notDone").asInt()).isEqualTo(3);
        }

        @Test
        void aReplayOnAFifoResultsQueueSendsEachResultOnceUnderItsShardAndSequenceNumber() {
            String queue = sqs.createQueue("kinesis-replay.fifo");
            String longKey = "clé ".repeat(40); // 160 characters, spaces and an accent: no MessageGroupId as it is
            List<Put> puts = List.of(new Put("a", echo(0)), new Put(longKey, echo(1)), new Put("a", echo(2)));
            StreamBatchProcessor processor = processor(queue);

            processor.kinesis(kinesis(puts), Deadline.after(DEADLINE), Optional.empty());
            var replay = processor.kinesis(kinesis(puts), Deadline.after(DEADLINE), Optional.empty());

            assertThat(reported(replay.response())).isEmpty();
            List<Message> drained = sqs.drain(queue);
            assertThat(drained).hasSize(3);
            Map<String, Message> bySource = new HashMap<>();
            for (Message m : drained) {
                bySource.put(SqsBatchProcessorTest.readTree(m.body()).get("sourceMessageId").asText(), m);
            }
            for (int i = 0; i < 3; i++) {
                assertThat(bySource.get(eventId(i)).attributes().get(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID))
                        .isEqualTo(eventId(i));
            }
            assertThat(bySource.get(eventId(0)).attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID))
                    .isEqualTo("a");
            assertThat(bySource.get(eventId(1)).attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID))
                    .matches("sha256-[0-9a-f]{32}");
            // key a's results in record order
            List<String> ofA = drained.stream().map(m -> SqsBatchProcessorTest.readTree(m.body()))
                    .map(r -> r.get("sourceMessageId").asText()).filter(id -> !id.equals(eventId(1))).toList();
            assertThat(ofA).containsExactly(eventId(0), eventId(2));
        }
    }

    @Nested
    class KinesisBadInput {

        @Test
        void eachBadRecordIsRejectedWithItsReasonAndTheOthersRun() {
            String queue = sqs.createQueue("kinesis-bad");
            ObjectNode json = StreamEvents.kinesisEvent(List.of(
                    new Put("a", echo(0)),
                    new Put("a", "placeholder for data that is not base64"),
                    new Put("a", "not json"),
                    new Put("b", "[1, 2]"),
                    new Put("b", "{\"type\":\"echo\",\"colour\":\"red\"}"),
                    new Put("c", echo(5)),
                    new Put("", echo(6)),
                    new Put("d", echo(7))));
            ((ObjectNode) json.get("Records").get(1).get("kinesis")).put("data", "%%% not base64 %%%");
            ((ObjectNode) json.get("Records").get(7).get("kinesis")).remove("sequenceNumber");
            ((ObjectNode) json.get("Records").get(5).get("kinesis")).putNull("data");

            var invocation = processor(queue).kinesis(StreamEvents.kinesis(json.toString()), Deadline.after(DEADLINE),
                    Optional.empty());

            assertThat(reported(invocation.response())).isEmpty();
            Map<String, JsonNode> results = resultsBySource(sqs.drain(queue));
            assertThat(results).hasSize(8);
            assertThat(results.get(eventId(0)).get("status").asText()).isEqualTo("succeeded");
            Map<Integer, String> reasons = Map.of(
                    1, "data is not base64",
                    2, "item is not valid JSON",
                    3, "item must be a JSON object, was an array",
                    4, "unknown field 'colour'",
                    5, "record has no data",
                    6, "record has no partitionKey",
                    7, "record has no sequenceNumber");
            reasons.forEach((i, reason) -> {
                JsonNode result = results.get(eventId(i));
                assertThat(result.get("status").asText()).as("record %d", i).isEqualTo("rejected");
                assertThat(result.at("/error/message").asText()).as("record %d", i).startsWith(reason);
            });
        }

        @Test
        void aRecordWithoutASequenceNumberThatIsNotDoneFailsTheWholeBatch() {
            String queue = sqs.createQueue("kinesis-no-sequence");
            ObjectNode json = StreamEvents.kinesisEvent(List.of(new Put("a", echo(0)), new Put("b", echo(1))));
            ((ObjectNode) json.get("Records").get(1).get("kinesis")).remove("sequenceNumber");
            var refusing = new FaultySqsClient(sqs.client(), new FaultySqsClient.Faults(0, 0, 100, 0, 0, 0), 7);

            var invocation = processor(refusing, queue, Limits.of(8).withCutoffMargin(Duration.ofMillis(1500)),
                    Optional.empty()).kinesis(StreamEvents.kinesis(json.toString()), Deadline.after(Duration.ofSeconds(3)),
                            Optional.empty());

            assertThat(reported(invocation.response())).containsExactly("");
            assertThat(invocation.summary().get("wholeBatchHandedBack").asText())
                    .isEqualTo("record 1 is not done and has no sequence number to resume at");
        }

        @Test
        void emptyOrMissingRecordsGetAnEmptyResponse() {
            String queue = sqs.createQueue("kinesis-empty");
            StreamBatchProcessor processor = processor(queue);
            assertThat(reported(processor.kinesis(StreamEvents.kinesis("{\"Records\":[]}"), Deadline.after(DEADLINE),
                    Optional.empty()).response())).isEmpty();
            assertThat(reported(processor.kinesis(StreamEvents.kinesis("{}"), Deadline.after(DEADLINE),
                    Optional.empty()).response())).isEmpty();
            assertThat(reported(processor.kinesis(null, Deadline.after(DEADLINE), Optional.empty()).response())).isEmpty();
            assertThat(sqs.drain(queue)).isEmpty();
        }
    }

    @Nested
    class DynamoDb {

        @Test
        void theFixtureBecomesItemsOfPlainJsonInOrderPerItem() throws Exception {
            String queue = sqs.createQueue("dynamodb-fixture.fifo");
            DynamodbEvent event = StreamEvents.dynamodb(SqsEvents.fixture("dynamodb-stream.json"));

            var invocation = processor(queue).dynamodb(event, Deadline.after(DEADLINE), Optional.empty());

            assertThat(reported(invocation.response())).isEmpty();
            List<Message> drained = sqs.drain(queue);
            Map<String, JsonNode> results = resultsBySource(drained);
            assertThat(results.keySet()).containsExactlyInAnyOrder("c4ca4238a0b923820dcc509a6f75849b",
                    "c81e728d9d4c2f636f067f89cc14862c", "eccbc87e4b5ce2fe28308d09f39b5c7a",
                    "a87ff679a2f3e71d9181a67b7542122c");
            // read as exactly as it was written: every digit of N
            JsonNode insert = EXACT.readTree(drained.stream().filter(m -> m.body().contains("\"itemId\":\"c4ca4238"))
                    .findFirst().orElseThrow().body()).get("output");
            assertThat(insert.toString()).isEqualTo("{\"eventName\":\"INSERT\",\"eventId\":\"c4ca4238a0b923820dcc509a6f75849b\","
                    + "\"sequenceNumber\":\"111\",\"approximateCreationDateTime\":1764360000,"
                    + "\"keys\":{\"pk\":\"order-1\",\"sk\":1},"
                    + "\"newImage\":{\"address\":{\"city\":\"Lyon\",\"zip\":69001},\"blob\":\"aGVsbG8=\","
                    + "\"blobs\":[\"AQI=\",\"AwQ=\"],\"lines\":[\"book\",2,{\"sku\":\"b-1\"}],\"note\":null,"
                    + "\"paid\":false,\"pk\":\"order-1\",\"sizes\":[1,2.5],\"sk\":1,\"tags\":[\"new\",\"priority\"],"
                    + "\"total\":12345678901234567890.000000000000000001},\"expiredByTtl\":false}");
            JsonNode modify = results.get("eccbc87e4b5ce2fe28308d09f39b5c7a").get("output");
            assertThat(modify.at("/oldImage/paid").asBoolean()).isFalse();
            assertThat(modify.at("/newImage/paid").asBoolean()).isTrue();
            JsonNode ttlRemove = results.get("a87ff679a2f3e71d9181a67b7542122c").get("output");
            assertThat(ttlRemove.get("eventName").asText()).isEqualTo("REMOVE");
            assertThat(ttlRemove.get("expiredByTtl").asBoolean()).isTrue();
            assertThat(ttlRemove.has("newImage")).isFalse();
            // one item's changes in stream order, grouped by the canonical JSON of its keys
            List<String> order1 = drained.stream().filter(m -> m.attributes()
                    .get(MessageSystemAttributeName.MESSAGE_GROUP_ID).equals("{\"pk\":\"order-1\",\"sk\":1}"))
                    .map(m -> SqsBatchProcessorTest.readTree(m.body()).get("sourceMessageId").asText()).toList();
            assertThat(order1).containsExactly("c4ca4238a0b923820dcc509a6f75849b", "eccbc87e4b5ce2fe28308d09f39b5c7a");
        }

        @Test
        void aFailedChangeStopsItsItemAndTheResponseNamesItsSequenceNumber() {
            String queue = sqs.createQueue("dynamodb-checkpoint");
            DynamodbEvent event = StreamEvents.dynamodb(SqsEvents.fixture("dynamodb-stream.json"));

            var invocation = processor(sqs.client(), queue, Limits.of(8).withCutoffMargin(Duration.ofSeconds(1)),
                    Optional.of("flaky")).dynamodb(event, Deadline.after(DEADLINE), Optional.empty());

            assertThat(reported(invocation.response())).containsExactly("111");
            assertThat(invocation.summary().get("failed").asInt()).isEqualTo(2);
            assertThat(invocation.summary().get("notStarted").asInt()).isEqualTo(2);
        }

        @Test
        void anAttributeOfNoKnownTypeOrNoConfiguredTypeIsRejectedWithItsReason() {
            String queue = sqs.createQueue("dynamodb-bad");
            JsonNode json = SqsBatchProcessorTest.readTree(SqsEvents.fixture("dynamodb-stream.json"));
            ((com.fasterxml.jackson.databind.node.ArrayNode) json.at("/Records/0/dynamodb/NewImage/sizes/NS")).set(0, "one");
            ((ObjectNode) json.at("/Records/1/dynamodb/NewImage/total")).removeAll().put("X", "3");
            ((ObjectNode) json.at("/Records/3/dynamodb/OldImage/total")).removeAll().put("X", "3");
            DynamodbEvent event = StreamEvents.dynamodb(json.toString());

            var invocation = processor(queue).dynamodb(event, Deadline.after(DEADLINE), Optional.empty());

            assertThat(reported(invocation.response())).isEmpty();
            Map<String, JsonNode> results = resultsBySource(sqs.drain(queue));
            assertThat(results.get("c4ca4238a0b923820dcc509a6f75849b").at("/error/message").asText())
                    .isEqualTo("NewImage.sizes[0] is N but 'one' is not a number");
            assertThat(results.get("c81e728d9d4c2f636f067f89cc14862c").at("/error/message").asText())
                    .isEqualTo("NewImage.total has no type DynamoDB defines (S, N, B, SS, NS, BS, M, L, NULL or BOOL)");
            assertThat(results.get("a87ff679a2f3e71d9181a67b7542122c").at("/error/message").asText())
                    .isEqualTo("OldImage.total has no type DynamoDB defines (S, N, B, SS, NS, BS, M, L, NULL or BOOL)");

            String noType = sqs.createQueue("dynamodb-no-type");
            var untyped = processor(sqs.client(), noType, Limits.of(8).withCutoffMargin(Duration.ofSeconds(1)),
                    Optional.empty()).dynamodb(StreamEvents.dynamodb(SqsEvents.fixture("dynamodb-stream.json")),
                            Deadline.after(DEADLINE), Optional.empty());
            assertThat(reported(untyped.response())).isEmpty();
            assertThat(resultsBySource(sqs.drain(noType)).values()).hasSize(4).allSatisfy(r -> assertThat(
                    r.at("/error/message").asText()).isEqualTo(
                            "no item type for DynamoDB stream records: set fanout.streams.dynamodb-type"));
        }
    }

    /**
     * Kinesis records the KPL aggregated (aggregates built by {@link KplAggregateTest}'s byte-level builder): each
     * user record is an item of its own key, in order per key across aggregates and plain records.
     */
    @Nested
    class KplAggregated {

        static String userId(int record, int sub) {
            return eventId(record) + ":" + sub;
        }

        static byte[] utf8(String s) {
            return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }

        /** Record 0: echo 0 on key p; record 1: an aggregate of n 1..4 on keys k1, k1, k2, k1; record 2: echo 5 on k2. */
        KinesisEvent event(String secondType, byte[] aggregateOverride) {
            byte[] aggregate = aggregateOverride != null ? aggregateOverride : KplAggregateTest.aggregate(
                    List.of("k1", "k2"), List.of(
                            new KplAggregateTest.User(0, utf8(echo(1))),
                            new KplAggregateTest.User(0, utf8(StreamEvents.item("i-2", secondType, "{\"n\":2}"))),
                            new KplAggregateTest.User(1, utf8(echo(3))),
                            new KplAggregateTest.User(0, utf8(echo(4)))));
            ObjectNode json = StreamEvents.kinesisEvent(List.of(new Put("p", echo(0)), new Put("k1", "placeholder"),
                    new Put("k2", echo(5))));
            ((ObjectNode) json.get("Records").get(1).get("kinesis")).put("data",
                    java.util.Base64.getEncoder().encodeToString(aggregate));
            return StreamEvents.kinesis(json.toString());
        }

        @Test
        void eachUserRecordIsAnItemUnderItsOwnKeyAndId() {
            String queue = sqs.createQueue("kpl-all");

            var invocation = processor(queue).kinesis(event("echo", null), Deadline.after(DEADLINE), Optional.empty());

            assertThat(reported(invocation.response())).isEmpty();
            Map<String, JsonNode> results = resultsBySource(sqs.drain(queue));
            assertThat(results.keySet()).containsExactlyInAnyOrder(eventId(0), userId(1, 0), userId(1, 1),
                    userId(1, 2), userId(1, 3), eventId(2));
            assertThat(results.values()).allSatisfy(r -> assertThat(r.get("status").asText()).isEqualTo("succeeded"));
            assertThat(results.get(userId(1, 3)).at("/output/n").asInt()).isEqualTo(4);
            // key k1 (n 1, 2, 4) one after the other; k2: 3 (in the aggregate) before 5 (the later record)
            assertThat(ended.get(1)).isLessThan(started.get(2));
            assertThat(ended.get(2)).isLessThan(started.get(4));
            assertThat(ended.get(3)).isLessThan(started.get(5));
            assertThat(invocation.summary().get("records").asInt()).isEqualTo(6);
            assertThat(invocation.summary().get("kinesisRecords").asInt()).isEqualTo(3);
        }

        @Test
        void aPartlyDoneAggregateIsDeliveredAgainWholeAndEachUserRecordHasOneResult() {
            String queue = sqs.createQueue("kpl-partly.fifo");
            StreamBatchProcessor processor = processor(queue);
            KinesisEvent event = event("once", null);

            var first = processor.kinesis(event, Deadline.after(DEADLINE), Optional.empty());

            // n 2 failed: its key k1 stops (n 4 not started); Lambda can only resume at the aggregate's record
            assertThat(reported(first.response())).containsExactly(StreamEvents.sequenceNumber(1));
            assertThat(first.summary().get("checkpoint").asText()).isEqualTo(StreamEvents.sequenceNumber(1));
            assertThat(first.summary().get("checkpointSubSequence").asInt()).isEqualTo(1);
            assertThat(started.get(4)).isZero();

            var replay = processor.kinesis(event, Deadline.after(DEADLINE), Optional.empty());

            assertThat(reported(replay.response())).isEmpty();
            List<Message> drained = sqs.drain(queue);
            // the results of n 0, 1, 3, 5 were sent twice: the FIFO queue kept one of each, by deduplication id
            Map<String, JsonNode> results = resultsBySource(drained);
            assertThat(results.keySet()).containsExactlyInAnyOrder(eventId(0), userId(1, 0), userId(1, 1),
                    userId(1, 2), userId(1, 3), eventId(2));
            for (Message m : drained) {
                assertThat(m.attributes().get(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID))
                        .isEqualTo(SqsBatchProcessorTest.readTree(m.body()).get("sourceMessageId").asText());
            }
            List<String> ofK1 = drained.stream().map(m -> SqsBatchProcessorTest.readTree(m.body()))
                    .map(r -> r.get("sourceMessageId").asText())
                    .filter(id -> List.of(userId(1, 0), userId(1, 1), userId(1, 3)).contains(id)).toList();
            assertThat(ofK1).containsExactly(userId(1, 0), userId(1, 1), userId(1, 3));
            assertThat(results.get(userId(1, 1)).get("status").asText()).isEqualTo("succeeded");
        }

        @Test
        void aCorruptedAggregateIsRejectedAloneAndTheOtherRecordsRun() {
            String queue = sqs.createQueue("kpl-corrupt");
            byte[] corrupted = KplAggregateTest.tiny();
            corrupted[10] ^= 1;

            var invocation = processor(queue).kinesis(event("echo", corrupted), Deadline.after(DEADLINE), Optional.empty());

            assertThat(reported(invocation.response())).isEmpty();
            Map<String, JsonNode> results = resultsBySource(sqs.drain(queue));
            assertThat(results.keySet()).containsExactlyInAnyOrder(eventId(0), eventId(1), eventId(2));
            assertThat(results.get(eventId(1)).get("status").asText()).isEqualTo("rejected");
            assertThat(results.get(eventId(1)).at("/error/message").asText())
                    .isEqualTo("KPL aggregate's MD5 checksum does not match its content (truncated or corrupted)");
            assertThat(results.get(eventId(0)).get("status").asText()).isEqualTo("succeeded");
            assertThat(results.get(eventId(2)).get("status").asText()).isEqualTo("succeeded");
        }

        @Test
        void aBadUserRecordIsRejectedAloneItsAggregatesOthersRun() {
            String queue = sqs.createQueue("kpl-bad-user");
            byte[] aggregate = KplAggregateTest.aggregate(List.of("k1"), List.of(
                    new KplAggregateTest.User(0, utf8(echo(1))),
                    new KplAggregateTest.User(7, utf8(echo(2))),
                    new KplAggregateTest.User(0, utf8("{\"type\": \"echo\", \"payload\": ")),
                    new KplAggregateTest.User(0, utf8(echo(4)))));

            var invocation = processor(queue).kinesis(event("echo", aggregate), Deadline.after(DEADLINE), Optional.empty());

            assertThat(reported(invocation.response())).isEmpty();
            Map<String, JsonNode> results = resultsBySource(sqs.drain(queue));
            assertThat(results.get(userId(1, 1)).at("/error/message").asText())
                    .isEqualTo("user record's partition_key_index 7 is outside the aggregate's 1 partition keys");
            assertThat(results.get(userId(1, 2)).get("status").asText()).isEqualTo("rejected");
            assertThat(results.get(userId(1, 0)).get("status").asText()).isEqualTo("succeeded");
            assertThat(results.get(userId(1, 3)).get("status").asText()).isEqualTo("succeeded");
            assertThat(results).hasSize(6);
        }
    }
}
