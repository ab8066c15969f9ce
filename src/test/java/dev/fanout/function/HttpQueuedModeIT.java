package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.QueuedBatch;
import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.LocalEventSource;
import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.ProxyEvents;
import dev.fanout.testing.ProxyEvents.Format;
import dev.fanout.testing.ProxyEvents.Response;
import dev.fanout.testing.RuntimeApiServer;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * Queued mode end to end, through both packaged functions under the Runtime Interface Client: POST with
 * {@code Prefer: respond-async} to the HTTP function, 202, the items on the work queue (ElasticMQ), the
 * SQS function run by an emulated event source mapping, and every item's result on the results queue with
 * its batch id and index.
 */
class HttpQueuedModeIT {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static ElasticMq sqs;
    static RuntimeApiServer httpApi;
    static RuntimeApiServer sqsApi;
    static PackagedFunction http;
    static PackagedFunction worker;
    static String work;
    static String results;

    @BeforeAll
    static void start() throws Exception {
        sqs = ElasticMq.start();
        work = sqs.createQueue("queued-work");
        results = sqs.createQueue("queued-results");
        httpApi = RuntimeApiServer.start();
        sqsApi = RuntimeApiServer.start();
        http = PackagedFunction.start("http", httpApi, Map.of("WORK_QUEUE_URL", work,
                "FANOUT_RESULTS_ENDPOINT", sqs.endpoint().toString()));
        worker = PackagedFunction.start("sqs", sqsApi, Map.of("RESULTS_QUEUE_URL", results,
                "FANOUT_RESULTS_ENDPOINT", sqs.endpoint().toString(), "FANOUT_CUTOFF_MARGIN", "1s"));
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {http, worker, httpApi, sqsApi, sqs}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    static Response post(Format format, int items) throws Exception {
        ObjectNode event = format.event(ProxyEvents.batch(IntStream.range(0, items)
                .mapToObj(i -> "{\"id\":\"" + format + "-" + i + "\",\"type\":\"digest\",\"payload\":{\"data\":\"" + i + "\"}}")
                .toList()));
        format.withHeader(event, "Prefer", "respond-async");
        var answer = httpApi.invoke(event.toString(), Duration.ofSeconds(30));
        assertThat(answer.error()).as(answer.body() + http.log()).isFalse();
        assertThat(answer.answeredBeforeDeadline()).isTrue();
        return Response.read(answer.body());
    }

    @Test
    void everyQueuedItemEndsOnTheResultsQueueWithItsBatchIdAndIndex() throws Exception {
        Map<String, Integer> batches = new HashMap<>();
        for (Format format : Format.values()) {
            Response response = post(format, 300);
            assertThat(response.status()).isEqualTo(202);
            assertThat(response.headers()).containsEntry("Preference-Applied", "respond-async");
            assertThat(response.body().get("queued").asInt()).isEqualTo(300);
            batches.put(response.body().get("batchId").asText(), 300);
        }
        assertThat(sqs.depth(work)).isEqualTo(900);

        var source = new LocalEventSource(sqs.client(), work, sqsApi, 100, Duration.ofSeconds(30));
        for (int round = 0; round < 50 && source.outstanding() > 0; round++) {
            var invocation = source.pollAndInvoke();
            assertThat(invocation == null || invocation.reported() == 0).as(worker.log()).isTrue();
        }

        List<Message> delivered = sqs.drain(results);
        assertThat(delivered).hasSize(900);
        Map<String, Set<Integer>> indexes = new HashMap<>();
        for (Message message : delivered) {
            JsonNode result = MAPPER.readTree(message.body());
            assertThat(result.get("status").asText()).isEqualTo("succeeded");
            String batchId = result.get("batchId").asText();
            int index = result.get("itemIndex").asInt();
            assertThat(message.messageAttributes().get(QueuedBatch.BATCH_ID_ATTRIBUTE).stringValue()).isEqualTo(batchId);
            assertThat(message.messageAttributes().get(QueuedBatch.ITEM_INDEX_ATTRIBUTE).stringValue())
                    .isEqualTo(Integer.toString(index));
            assertThat(result.get("itemId").asText()).endsWith("-" + index);
            indexes.computeIfAbsent(batchId, b -> new TreeSet<>()).add(index);
        }
        assertThat(indexes.keySet()).isEqualTo(batches.keySet());
        Set<Integer> all = new TreeSet<>(IntStream.range(0, 300).boxed().toList());
        indexes.values().forEach(set -> assertThat(set).isEqualTo(all));
    }

    @Test
    void everyAnswerLogsOneStructuredLine() throws Exception {
        long before = http.log().lines().filter(l -> l.contains("\"event\":\"fanout.http\"")).count();
        httpApi.invoke(Format.HTTP_API_V2.event("{\"items\":[]}").toString(), Duration.ofSeconds(10));
        httpApi.invoke(Format.REST_API.withHeader(Format.REST_API.event("{\"items\":[]}"), "Content-Type", "text/plain")
                .toString(), Duration.ofSeconds(10));
        httpApi.invoke(Format.HTTP_API_V1.event("{\"items\":[],\"items\":[]}").toString(), Duration.ofSeconds(10));

        List<String> lines = http.log().lines().filter(l -> l.contains("\"event\":\"fanout.http\"")).skip(before).toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).contains("\"format\":\"2.0\"").contains("\"status\":200");
        assertThat(lines.get(1)).contains("\"format\":\"1.0\"").contains("\"problem\":\"unsupported-media-type\"")
                .contains("\"status\":415");
        assertThat(lines.get(2)).contains("\"problem\":\"invalid-json\"").contains("\"status\":400");
    }
}
