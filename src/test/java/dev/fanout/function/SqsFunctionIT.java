package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.RuntimeApiServer;
import dev.fanout.testing.SqsEvents;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * The packaged function, end to end: AWS's Runtime Interface Client polls our Runtime API server, which
 * sets {@code Lambda-Runtime-Deadline-Ms} like Lambda; results go to an embedded ElasticMQ.
 */
class SqsFunctionIT {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static ElasticMq sqs;
    static RuntimeApiServer api;
    static RuntimeApiServer fifoApi;
    static PackagedFunction function;
    static PackagedFunction fifoFunction;
    static String results;
    static String fifoResults;

    @BeforeAll
    static void start() throws Exception {
        sqs = ElasticMq.start();
        results = sqs.createQueue("it-results");
        fifoResults = sqs.createQueue("it-results.fifo");
        api = RuntimeApiServer.start();
        fifoApi = RuntimeApiServer.start();
        function = PackagedFunction.start("sqs", api, env(results));
        fifoFunction = PackagedFunction.start("sqs", fifoApi, env(fifoResults));
    }

    static Map<String, String> env(String queueUrl) {
        return Map.of("RESULTS_QUEUE_URL", queueUrl, "FANOUT_RESULTS_ENDPOINT", sqs.endpoint().toString(),
                "FANOUT_CUTOFF_MARGIN", "1s", "FANOUT_MAX_CONCURRENCY", "64");
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] { function, fifoFunction, api, fifoApi, sqs }) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    static List<String> failedIds(RuntimeApiServer.Result result) throws Exception {
        assertThat(result.error()).as("invocation error: %s\n%s", result.body(), function.log()).isFalse();
        List<String> ids = new ArrayList<>();
        MAPPER.readTree(result.body()).get("batchItemFailures").forEach(f -> ids.add(f.get("itemIdentifier").asText()));
        return ids;
    }

    static JsonNode json(String text) throws Exception {
        return MAPPER.readTree(text);
    }

    static List<String> ids(String fixture) throws Exception {
        List<String> ids = new ArrayList<>();
        json(fixture).get("Records").forEach(r -> ids.add(r.get("messageId").asText()));
        return ids;
    }

    @Test
    void standardFixtureThroughTheLambdaRuntime() throws Exception {
        String event = SqsEvents.fixture("sqs-standard.json");
        List<String> ids = ids(event);

        var result = api.invoke(event, Duration.ofSeconds(30));

        assertThat(failedIds(result)).containsExactly(ids.get(5));
        assertThat(result.answeredBeforeDeadline()).isTrue();
        List<Message> messages = sqs.drain(results);
        assertThat(messages).extracting(m -> json(m.body()).get("sourceMessageId").asText())
                .containsExactlyInAnyOrder(ids.get(0), ids.get(1), ids.get(2), ids.get(3), ids.get(4), ids.get(6));
        assertThat(function.log()).contains("\"event\":\"fanout.sqs\"", "\"records\":7", "\"batchItemFailures\":1");
    }

    @Test
    void fifoFixtureToAFifoResultsQueue() throws Exception {
        String event = SqsEvents.fixture("sqs-fifo.json");
        List<String> ids = ids(event);

        var result = fifoApi.invoke(event, Duration.ofSeconds(30));

        assertThat(failedIds(result)).containsExactly(ids.get(3), ids.get(5), ids.get(7));
        List<Message> messages = sqs.drain(fifoResults);
        assertThat(messages).hasSize(5);
        for (Message m : messages) {
            JsonNode body = json(m.body());
            assertThat(m.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID))
                    .isEqualTo(body.get("itemId").asText().startsWith("a") ? "g-a" : "g-b");
            assertThat(m.attributes().get(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID))
                    .isEqualTo(body.get("sourceMessageId").asText());
        }
    }

    @Test
    void aTwoSecondDeadlineWithTenSecondItems() throws Exception {
        List<String> bodies = IntStream.range(0, 30)
                .mapToObj(i -> SqsEvents.item("delay", "{\"millis\":" + (i % 3 == 0 ? 10_000 : 20) + "}")).toList();

        var result = api.invoke(SqsEvents.standard(bodies), Duration.ofSeconds(2));

        assertThat(result.answeredBeforeDeadline()).as("answered %s after start", result.elapsed()).isTrue();
        List<String> slow = IntStream.range(0, 30).filter(i -> i % 3 == 0).mapToObj(i -> "m-" + i).toList();
        assertThat(failedIds(result)).containsExactlyInAnyOrderElementsOf(slow);
        assertThat(sqs.drain(results)).extracting(m -> json(m.body()).get("sourceMessageId").asText())
                .containsExactlyInAnyOrderElementsOf(
                        IntStream.range(0, 30).filter(i -> i % 3 != 0).mapToObj(i -> "m-" + i).toList());
    }

    @Test
    void emptyRecords() throws Exception {
        var result = api.invoke(SqsEvents.fixture("sqs-empty.json"), Duration.ofSeconds(10));
        assertThat(failedIds(result)).isEmpty();
    }

    @Test
    void anEventThatIsNotAnSqsEventIsAnInvocationErrorAndTheFunctionServesOn() throws Exception {
        var broken = api.invoke("{\"Records\": \"not a list\"}", Duration.ofSeconds(10));
        assertThat(broken.error()).isTrue();
        assertThat(json(broken.body()).get("errorMessage").asText()).isNotBlank();

        var next = api.invoke(SqsEvents.standard(List.of(SqsEvents.item("digest", "{\"data\":\"still here\"}"))),
                Duration.ofSeconds(10));
        assertThat(failedIds(next)).isEmpty();
        assertThat(sqs.drain(results)).hasSize(1);
        assertThat(function.isAlive()).isTrue();
    }
}
