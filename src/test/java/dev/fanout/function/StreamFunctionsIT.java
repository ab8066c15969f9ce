package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.KinesisEventSource;
import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.RuntimeApiServer;
import dev.fanout.testing.SqsEvents;
import dev.fanout.testing.StreamEvents;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The packaged function's stream entry points, end to end: AWS's Runtime Interface Client polls our Runtime API
 * server (which sets {@code Lambda-Runtime-Deadline-Ms} like Lambda), the emulated Kinesis mapping replays from
 * the sequence numbers the function reports; results go to an embedded ElasticMQ.
 */
class StreamFunctionsIT {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static ElasticMq sqs;
    static RuntimeApiServer kinesisApi;
    static RuntimeApiServer dynamodbApi;
    static PackagedFunction kinesis;
    static PackagedFunction dynamodb;
    static String kinesisResults;
    static String dynamodbResults;

    @BeforeAll
    static void start() throws Exception {
        sqs = ElasticMq.start();
        kinesisResults = sqs.createQueue("it-kinesis-results.fifo");
        dynamodbResults = sqs.createQueue("it-dynamodb-results");
        kinesisApi = RuntimeApiServer.start();
        dynamodbApi = RuntimeApiServer.start();
        kinesis = PackagedFunction.start("kinesis", kinesisApi, env(kinesisResults));
        Map<String, String> dynamodbEnv = new HashMap<>(env(dynamodbResults));
        dynamodbEnv.put("FANOUT_STREAMS_DYNAMODB_TYPE", "delay");
        dynamodb = PackagedFunction.start("dynamodb", dynamodbApi, dynamodbEnv);
    }

    static Map<String, String> env(String queueUrl) {
        return Map.of("RESULTS_QUEUE_URL", queueUrl, "FANOUT_RESULTS_ENDPOINT", sqs.endpoint().toString(),
                "FANOUT_CUTOFF_MARGIN", "1s", "FANOUT_MAX_CONCURRENCY", "64");
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] { kinesis, dynamodb, kinesisApi, dynamodbApi, sqs }) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    @Test
    void aKinesisStreamDrainedThroughReplaysLeavesEveryResultOnceInKeyOrder() throws Exception {
        String destination = sqs.createQueue("it-kinesis-failures");
        // a retry limit no batch reaches: each retry fails only if its first record fails again (one in two)
        var source = new KinesisEventSource(StreamEvents.STREAM_ARN, 2, 50, 100, true, sqs.client(), destination);
        Map<String, String> keyOf = new HashMap<>();
        for (int n = 0; n < 200; n++) {
            // every 9th item fails with a chance of one in two (retryable), and is replayed until it succeeds
            String payload = n % 9 == 4 ? "{\"millis\":5,\"failRate\":0.5}" : "{\"millis\":5}";
            var entry = source.put("k-" + n % 20, StreamEvents.item("i-" + n, "delay", payload));
            keyOf.put(entry.shardId() + ":" + entry.sequenceNumber(), entry.partitionKey());
        }

        var counts = source.drain(json -> {
            try {
                var result = kinesisApi.invoke(json, Duration.ofSeconds(10));
                assertThat(result.answeredBeforeDeadline()).isTrue();
                if (result.error()) {
                    return KinesisEventSource.Answer.failed();
                }
                List<String> identifiers = new ArrayList<>();
                MAPPER.readTree(result.body()).get("batchItemFailures")
                        .forEach(f -> identifiers.add(f.get("itemIdentifier").asText()));
                return new KinesisEventSource.Answer(identifiers, false);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });

        assertThat(sqs.drain(destination)).as("no batch ran out of retries (%s)", counts).isEmpty();
        Map<String, List<String>> byKey = new HashMap<>();
        Set<String> seen = new HashSet<>();
        for (Message m : sqs.drain(kinesisResults)) {
            JsonNode result = MAPPER.readTree(m.body());
            String id = result.get("sourceMessageId").asText();
            assertThat(seen.add(id)).as("one result for %s", id).isTrue();
            assertThat(result.get("status").asText()).isEqualTo("succeeded");
            byKey.computeIfAbsent(keyOf.get(id), k -> new ArrayList<>()).add(id);
        }
        assertThat(seen).containsExactlyInAnyOrderElementsOf(keyOf.keySet());
        byKey.forEach((key, ids) -> assertThat(ids).as(key).isSortedAccordingTo(
                (a, b) -> new BigInteger(a.substring(a.indexOf(':') + 1)).compareTo(new BigInteger(b.substring(b.indexOf(':') + 1)))));
        assertThat(kinesis.log()).contains("\"event\":\"fanout.kinesis\"");
        System.out.printf("kinesis through the Runtime Interface Client: %s%n", counts);
    }

    @Test
    void theDynamodbFixtureThroughTheLambdaRuntime() throws Exception {
        var result = dynamodbApi.invoke(SqsEvents.fixture("dynamodb-stream.json"), Duration.ofSeconds(10));

        assertThat(result.error()).as(result.body()).isFalse();
        assertThat(MAPPER.readTree(result.body()).get("batchItemFailures")).isEmpty();
        // the built-in delay type binds its payload strictly: a change is not a delay, and is rejected with why
        List<Message> messages = sqs.drain(dynamodbResults);
        assertThat(messages).hasSize(4).allSatisfy(m -> assertThat(MAPPER.readTree(m.body()).at("/error/message").asText())
                .startsWith("'delay' payload: "));
    }
}
