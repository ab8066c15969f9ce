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

import dev.fanout.testing.FanoutSettings;
import dev.fanout.batch.RecordBatch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.JacksonBindings;
import dev.fanout.testing.KinesisEventSource;
import dev.fanout.testing.StreamEvents;
import dev.fanout.work.ItemParser;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * The checkpoint contract through replays: an emulated Kinesis stream and event source mapping
 * ({@link KinesisEventSource}: shards, batches, replay from the reported sequence number, bisect on an
 * invocation error, the on-failure destination after the retry limit) drives the kinesis entry point until every
 * shard is drained. Records fail and succeed on retry, one never succeeds, and every fourth invocation is
 * "killed" after its work (its answer lost: Lambda sees an error). Then every record has its result on the FIFO
 * results queue exactly once, each key's results in sequence order, or lies in a batch the destination describes.
 */
class KinesisReplayTest {

    static final ObjectMapper MAPPER = JacksonBindings.recording(new ObjectMapper());
    static final ElasticMq sqs = ElasticMq.shared();
    static final int RECORDS = 600;
    static final int KEYS = 30;
    static final int POISON = 42;

    final Map<Integer, AtomicInteger> attempts = new ConcurrentHashMap<>();

    ItemFunctions handlers() {
        return TestFunctions.builder(MAPPER).register("step", (payload, context) -> {
            int n = payload.get("n").asInt();
            int attempt = attempts.computeIfAbsent(n, k -> new AtomicInteger()).incrementAndGet();
            if (n == POISON || (n % 7 == 3 && attempt == 1)) {
                throw new IllegalStateException("record " + n + ", attempt " + attempt + ": the service said 503");
            }
            return Map.of("n", n);
        }).build();
    }

    @Test
    void everyRecordIsOnTheResultsQueueOnceInKeyOrderOrDescribedByTheDestination() {
        String results = sqs.createQueue("kinesis-replay-results.fifo");
        String destination = sqs.createQueue("kinesis-replay-failures");
        var sinkSettings = FanoutSettings.results(results);
        ItemParser parser = new ItemParser(MAPPER, Optional.empty());
        var processor = new StreamBatchProcessor(new RecordBatch(new WorkerPool(Limits.of(64)
                .withCutoffMargin(Duration.ofSeconds(1))), handlers(), parser, new SqsResultsSink(sqs.client(), sinkSettings),
                MAPPER, new RecordBatch.Settings(Duration.ofMillis(100), true)), parser, Optional.empty());
        var source = new KinesisEventSource(StreamEvents.STREAM_ARN, 3, 100, 2, true, sqs.client(), destination);
        Map<String, Integer> numberOf = new HashMap<>();
        Map<String, String> keyOf = new HashMap<>();
        for (int n = 0; n < RECORDS; n++) {
            var entry = source.put("k-" + n % KEYS, StreamEvents.item("i-" + n, "step", "{\"n\":" + n + "}"));
            String id = entry.shardId() + ":" + entry.sequenceNumber();
            numberOf.put(id, n);
            keyOf.put(id, entry.partitionKey());
        }
        AtomicInteger invocations = new AtomicInteger();

        var counts = source.drain(json -> {
            var invocation = processor.kinesis(StreamEvents.kinesis(json), Deadline.after(Duration.ofSeconds(30)),
                    Optional.empty());
            if (invocations.incrementAndGet() % 4 == 0) {
                return KinesisEventSource.Answer.failed(); // killed after its work: the answer never reaches Lambda
            }
            return new KinesisEventSource.Answer(invocation.response().getBatchItemFailures().stream()
                    .map(StreamsEventResponse.BatchItemFailure::getItemIdentifier).toList(), false);
        });

        List<Message> drained = sqs.drain(results);
        Map<String, List<String>> byKey = new HashMap<>();
        Set<String> onQueue = new HashSet<>();
        for (Message m : drained) {
            String id = SqsBatchProcessorTest.readTree(m.body()).get("sourceMessageId").asText();
            assertThat(onQueue.add(id)).as("one result for %s", id).isTrue();
            assertThat(m.attributes().get(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID)).isEqualTo(id);
            byKey.computeIfAbsent(keyOf.get(id), k -> new ArrayList<>()).add(id);
        }
        byKey.forEach((key, ids) -> assertThat(ids).as("key %s in sequence order", key)
                .isSortedAccordingTo((a, b) -> sequence(a).compareTo(sequence(b))));
        // each record not on the queue lies in a batch the on-failure destination describes
        List<JsonNode> failedBatches = sqs.drain(destination).stream()
                .map(m -> KinesisEventSource.batchInfo(m.body())).toList();
        List<String> lost = new ArrayList<>();
        for (String id : numberOf.keySet()) {
            if (!onQueue.contains(id) && failedBatches.stream().noneMatch(b -> covers(b, id))) {
                lost.add(id);
            }
        }
        assertThat(lost).as("records neither on the results queue nor described by the destination").isEmpty();
        String poison = numberOf.entrySet().stream().filter(e -> e.getValue() == POISON).findFirst().orElseThrow().getKey();
        assertThat(onQueue).doesNotContain(poison);
        assertThat(failedBatches).anySatisfy(b -> assertThat(b.get("startSequenceNumber").asText())
                .isEqualTo(poison.substring(poison.indexOf(':') + 1)));
        assertThat(onQueue).hasSizeGreaterThan(RECORDS - 100);
        assertThat(counts.replays()).isPositive();
        assertThat(counts.bisects()).isPositive();
        System.out.printf("kinesis replay: %s, %d results on the queue, %d failed batches%n", counts, onQueue.size(),
                failedBatches.size());
    }

    static BigInteger sequence(String id) {
        return new BigInteger(id.substring(id.indexOf(':') + 1));
    }

    static boolean covers(JsonNode batch, String id) {
        BigInteger s = sequence(id);
        return id.startsWith(batch.get("shardId").asText() + ":")
                && s.compareTo(new BigInteger(batch.get("startSequenceNumber").asText())) >= 0
                && s.compareTo(new BigInteger(batch.get("endSequenceNumber").asText())) <= 0;
    }
}
