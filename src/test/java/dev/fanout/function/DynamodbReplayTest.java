package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.testing.FanoutSettings;
import dev.fanout.batch.RecordBatch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.testing.DynamodbEventSource;
import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.JacksonBindings;
import dev.fanout.testing.SqsEvents;
import dev.fanout.testing.StreamEvents;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.ItemParser;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * The dynamodb entry point through an emulated DynamoDB stream and its event source mapping
 * ({@link DynamodbEventSource}: shards by item keys, batches, replay from the reported sequence number, bisect on
 * an invocation error, the on-failure destination after the retry limit). The changes are the records of
 * {@code events/dynamodb-stream.json} (INSERT, MODIFY, and a REMOVE by time to live) spread over 25 items;
 * changes fail once and succeed on their retry, one never succeeds, every fourth invocation's answer is lost. In
 * the end every change has its result on the FIFO results queue exactly once, each item's results in sequence
 * order, or lies in a batch a {@code DDBStreamBatchInfo} on the destination describes; none is lost.
 */
class DynamodbReplayTest {

    static final ObjectMapper MAPPER = JacksonBindings.recording(new ObjectMapper());
    static final ElasticMq sqs = ElasticMq.shared();
    static final int CHANGES = 400;
    static final int ITEMS = 25;
    static final int POISON = 42;

    final Map<Integer, AtomicInteger> attempts = new ConcurrentHashMap<>();

    ItemFunctions handlers() {
        return TestFunctions.builder(MAPPER).register("order-change", (change, context) -> {
            JsonNode image = change.has("newImage") ? change.get("newImage") : change.get("oldImage");
            int n = image.get("n").asInt();
            int attempt = attempts.computeIfAbsent(n, k -> new AtomicInteger()).incrementAndGet();
            if (n == POISON || (n % 7 == 3 && attempt == 1)) {
                throw new IllegalStateException("change " + n + ", attempt " + attempt + ": the service said 503");
            }
            return Map.of("n", n, "eventName", change.get("eventName").asText(), "expiredByTtl",
                    change.get("expiredByTtl").asBoolean());
        }).build();
    }

    @Test
    void everyChangeIsOnTheResultsQueueOnceInItemOrderOrDescribedByTheDestination() throws Exception {
        String results = sqs.createQueue("dynamodb-replay-results.fifo");
        String destination = sqs.createQueue("dynamodb-replay-failures");
        ItemParser parser = new ItemParser(MAPPER, Optional.empty());
        var processor = new StreamBatchProcessor(new RecordBatch(new WorkerPool(Limits.of(64)
                .withCutoffMargin(Duration.ofSeconds(1))), handlers(), parser,
                new SqsResultsSink(sqs.client(), FanoutSettings.results(results)), MAPPER,
                new RecordBatch.Settings(Duration.ofMillis(100), true)), parser, Optional.of("order-change"));
        var source = new DynamodbEventSource(DynamodbEventSource.STREAM_ARN, 3, 50, 2, true, sqs.client(), destination);
        JsonNode fixture = MAPPER.readTree(SqsEvents.fixture("dynamodb-stream.json")).get("Records");
        Map<String, Integer> numberOf = new HashMap<>();
        Map<String, String> itemOf = new HashMap<>();
        Map<String, String> eventNameOf = new HashMap<>();
        Map<String, String> shardOf = new HashMap<>();
        Map<String, BigInteger> sequenceOf = new HashMap<>();
        for (int n = 0; n < CHANGES; n++) {
            ObjectNode change = fixture.get(n % fixture.size()).deepCopy();
            String pk = "order-" + n % ITEMS;
            ObjectNode dynamodb = (ObjectNode) change.get("dynamodb");
            ((ObjectNode) dynamodb.get("Keys").get("pk")).put("S", pk);
            for (String image : List.of("NewImage", "OldImage")) {
                if (dynamodb.get(image) instanceof ObjectNode attributes) {
                    ((ObjectNode) attributes.get("pk")).put("S", pk);
                    attributes.putObject("n").put("N", Integer.toString(n));
                }
            }
            var entry = source.put(change);
            String id = DynamodbEventSource.eventId(entry);
            numberOf.put(id, n);
            itemOf.put(id, pk);
            eventNameOf.put(id, change.get("eventName").asText());
            shardOf.put(id, entry.shardId());
            sequenceOf.put(id, new BigInteger(entry.sequenceNumber()));
        }
        AtomicInteger invocations = new AtomicInteger();

        var counts = source.drain(json -> {
            var invocation = processor.dynamodb(StreamEvents.dynamodb(json), Deadline.after(Duration.ofSeconds(30)),
                    Optional.empty());
            if (invocations.incrementAndGet() % 4 == 0) {
                return DynamodbEventSource.Answer.failed(); // killed after its work: the answer never reaches Lambda
            }
            return new DynamodbEventSource.Answer(invocation.response().getBatchItemFailures().stream()
                    .map(StreamsEventResponse.BatchItemFailure::getItemIdentifier).toList(), false);
        });

        Map<String, List<Integer>> byItem = new HashMap<>();
        Set<String> onQueue = new HashSet<>();
        for (Message m : sqs.drain(results)) {
            JsonNode result = SqsBatchProcessorTest.readTree(m.body());
            String id = result.get("sourceMessageId").asText();
            assertThat(onQueue.add(id)).as("one result for %s", id).isTrue();
            assertThat(m.attributes().get(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID)).isEqualTo(id);
            assertThat(result.get("status").asText()).as(id).isEqualTo("succeeded");
            assertThat(result.at("/output/n").asInt()).isEqualTo(numberOf.get(id));
            assertThat(result.at("/output/eventName").asText()).isEqualTo(eventNameOf.get(id));
            // the fixture's REMOVE is time to live's (userIdentity dynamodb.amazonaws.com)
            assertThat(result.at("/output/expiredByTtl").asBoolean()).isEqualTo("REMOVE".equals(eventNameOf.get(id)));
            byItem.computeIfAbsent(itemOf.get(id), k -> new ArrayList<>()).add(numberOf.get(id));
        }
        byItem.forEach((item, ns) -> assertThat(ns).as("item %s in sequence order", item).isSorted());
        List<JsonNode> failedBatches = sqs.drain(destination).stream()
                .map(m -> DynamodbEventSource.batchInfo(m.body())).toList();
        List<String> lost = new ArrayList<>();
        for (String id : numberOf.keySet()) {
            if (!onQueue.contains(id) && failedBatches.stream()
                    .noneMatch(b -> covers(b, shardOf.get(id), sequenceOf.get(id)))) {
                lost.add(id);
            }
        }
        assertThat(lost).as("changes neither on the results queue nor described by the destination").isEmpty();
        String poison = numberOf.entrySet().stream().filter(e -> e.getValue() == POISON).findFirst().orElseThrow().getKey();
        assertThat(onQueue).doesNotContain(poison);
        assertThat(failedBatches).anySatisfy(b -> {
            assertThat(new BigInteger(b.get("startSequenceNumber").asText())).isEqualTo(sequenceOf.get(poison));
            assertThat(b.get("streamArn").asText()).isEqualTo(DynamodbEventSource.STREAM_ARN);
            assertThat(b.get("shardId").asText()).startsWith("shardId-00000001764360000000-");
        });
        assertThat(onQueue).hasSizeGreaterThan(CHANGES - 60);
        assertThat(counts.replays()).isPositive();
        assertThat(counts.bisects()).isPositive();
        System.out.printf("dynamodb replay: %s, %d results on the queue, %d failed batches%n", counts, onQueue.size(),
                failedBatches.size());
    }

    static boolean covers(JsonNode batch, String shard, BigInteger sequence) {
        return batch.get("shardId").asText().equals(shard)
                && sequence.compareTo(new BigInteger(batch.get("startSequenceNumber").asText())) >= 0
                && sequence.compareTo(new BigInteger(batch.get("endSequenceNumber").asText())) <= 0;
    }
}
