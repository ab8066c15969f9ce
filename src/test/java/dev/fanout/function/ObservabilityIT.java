package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.RecordBatch;
import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.EmfLog;
import dev.fanout.testing.EmfSpecification;
import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.RuntimeApiServer;
import dev.fanout.testing.SqsEvents;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The packaged functions' logs under the Runtime Interface Client: every line one JSON object, each
 * invocation's summary a valid EMF event whose values are the invocation's real counts, and the trace id
 * of the invocation in its log lines and on its results.
 */
class ObservabilityIT {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static ElasticMq sqs;
    static RuntimeApiServer sqsApi;
    static RuntimeApiServer httpApi;
    static PackagedFunction sqsFunction;
    static PackagedFunction httpFunction;
    static String results;

    @BeforeAll
    static void start() throws Exception {
        sqs = ElasticMq.start();
        results = sqs.createQueue("observed-results");
        sqsApi = RuntimeApiServer.start();
        httpApi = RuntimeApiServer.start();
        // two items at once: the two hanging items hold both slots until the cut-off, so the last one never starts
        sqsFunction = PackagedFunction.start("sqs", sqsApi, Map.of("RESULTS_QUEUE_URL", results,
                "FANOUT_RESULTS_ENDPOINT", sqs.endpoint().toString(), "FANOUT_CUTOFF_MARGIN", "1s",
                "FANOUT_MAX_CONCURRENCY", "2"));
        httpFunction = PackagedFunction.start("http", httpApi, Map.of("FANOUT_HTTP_API_CUTOFF_MARGIN", "300ms"));
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] { sqsFunction, httpFunction, sqsApi, httpApi, sqs }) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    /** A mixed batch with a known outcome for each record, in input order (m-0 ... m-7). */
    static final List<String> MIXED = List.of(
            SqsEvents.item("digest", "{\"data\":\"a\"}"), // succeeded
            SqsEvents.item("digest", "{\"data\":\"b\"}"), // succeeded
            "{\"type\": \"digest\", \"payload\": ", // rejected: not JSON
            SqsEvents.item("geocode", "{}"), // rejected: no such type
            SqsEvents.item("delay", "{\"millis\":1,\"failRate\":1.0,\"permanent\":true}"), // failed for good
            SqsEvents.item("delay", "{\"millis\":600000}"), // timed out at the cut-off
            SqsEvents.item("delay", "{\"millis\":600000}"), // timed out at the cut-off
            SqsEvents.item("digest", "{\"data\":\"c\"}")); // not started: both slots held until the cut-off

    @Test
    void theSummaryOfAMixedBatchIsAValidEmfEventWithItsRealCounts() throws Exception {
        var result = sqsApi.invoke(SqsEvents.standard(MIXED), Duration.ofSeconds(4));

        assertThat(result.error()).as(result.body()).isFalse();
        List<String> handedBack = new ArrayList<>();
        MAPPER.readTree(result.body()).get("batchItemFailures").forEach(f -> handedBack.add(f.get("itemIdentifier").asText()));
        assertThat(handedBack).containsExactlyInAnyOrder("m-5", "m-6", "m-7");
        List<Message> onQueue = sqs.drain(results);
        assertThat(onQueue).hasSize(5);

        JsonNode emf = onlyEmfEventOf(sqsFunction.log(), result.requestId());
        assertThat(EmfSpecification.violations(emf.toString())).isEmpty();
        Map<String, Long> expected = new LinkedHashMap<>();
        expected.put("records", 8L);
        expected.put("succeeded", 2L);
        expected.put("failed", 1L);
        expected.put("rejected", 2L);
        expected.put("timedOut", 2L);
        expected.put("notStarted", 1L);
        expected.put("peakConcurrency", 2L);
        expected.put("abandoned", 0L);
        expected.put("results", (long) onQueue.size());
        expected.put("delivered", (long) onQueue.size());
        expected.put("outputTooLarge", 0L);
        expected.put("sendRetries", 0L);
        expected.put("throttled", 0L);
        expected.put("batchItemFailures", (long) handedBack.size());
        expected.put("items.delay", 3L);
        expected.put("failures.delay", 3L);
        expected.put("items.digest", 3L);
        expected.put("failures.digest", 0L);
        expected.put("items.other", 2L);
        expected.put("failures.other", 2L);
        Map<String, Long> counts = new LinkedHashMap<>();
        Map<String, String> units = new LinkedHashMap<>();
        for (JsonNode metric : emf.at("/_aws/CloudWatchMetrics/0/Metrics")) {
            String name = metric.get("Name").asText();
            units.put(name, metric.get("Unit").asText());
            if (expected.containsKey(name)) {
                counts.put(name, emf.get(name).asLong());
            }
        }
        assertThat(counts).containsExactlyInAnyOrderEntriesOf(expected);
        // results stream out as their items end: the five results take one request or a few, never more than five
        assertThat(units).containsEntry("sendRequests", "Count");
        assertThat(emf.get("sendRequests").asLong()).isBetween(1L, 5L);
        assertThat(units).containsKeys("engineMs", "fanInMs", "timeLeftMs");
        assertThat(units.get("engineMs")).isEqualTo("Milliseconds");
        assertThat(emf.at("/_aws/CloudWatchMetrics/0/Namespace").asText()).isEqualTo("Fanout");
        assertThat(emf.at("/_aws/CloudWatchMetrics/0/Dimensions").toString()).isEqualTo("[[\"FunctionName\",\"EntryPoint\"]]");
        assertThat(emf.get("FunctionName").asText()).isEqualTo("fanout");
        assertThat(emf.get("EntryPoint").asText()).isEqualTo("sqs");
        // the hanging items held the engine until the cut-off, 1 s before the 4 s deadline; the three phases
        // follow one another inside the invocation
        assertThat(emf.get("timeLeftMs").asLong()).isBetween(0L, 1_000L);
        assertThat(emf.get("engineMs").asLong()).isPositive();
        assertThat(emf.get("engineMs").asLong() + emf.get("fanInMs").asLong() + emf.get("timeLeftMs").asLong())
                .isLessThanOrEqualTo(4_000L);
    }

    @Test
    void theInvocationsTraceIdReachesItsLogLinesAndItsResults() throws Exception {
        var result = sqsApi.invoke(SqsEvents.standard(List.of(SqsEvents.item("digest", "{\"data\":\"traced\"}"),
                SqsEvents.item("geocode", "{}"))), Duration.ofSeconds(10));

        List<Message> onQueue = sqs.drain(results);
        assertThat(onQueue).extracting(m -> m.messageAttributes().get("traceId").stringValue())
                .containsExactly(result.traceId(), result.traceId());
        JsonNode emf = onlyEmfEventOf(sqsFunction.log(), result.requestId());
        assertThat(emf.get("traceId").asText()).isEqualTo(result.traceId());

        // a deadline inside the cut-off margin: the function logs an error through the JSON formatter
        var tooShort = sqsApi.invoke(SqsEvents.standard(List.of(SqsEvents.item("digest", "{\"data\":\"x\"}"))),
                Duration.ofMillis(500));
        assertThat(MAPPER.readTree(tooShort.body()).get("batchItemFailures")).hasSize(1);
        List<JsonNode> lines = new ArrayList<>();
        for (String line : sqsFunction.log().lines().toList()) {
            JsonNode json = EmfSpecification.parse(line);
            if (tooShort.requestId().equals(json.at("/mdc/awsRequestId").asText())) {
                lines.add(json);
            }
        }
        assertThat(lines).extracting(l -> l.get("level").asText(), l -> l.get("logger").asText(),
                l -> l.at("/mdc/traceId").asText())
                .containsExactly(org.assertj.core.groups.Tuple.tuple("ERROR", RecordBatch.class.getName(),
                        tooShort.traceId()));
        assertThat(lines.get(0).get("message").asText()).contains("raise the function's timeout");
    }

    @Test
    void everyLineOfTheFunctionsLogIsOneJsonObject() throws Exception {
        // an invocation error too: the Runtime Interface Client reports it in the log (as JSON, as on Lambda
        // with LoggingConfig LogFormat JSON)
        assertThat(sqsApi.invoke("{\"Records\": \"not a list\"}", Duration.ofSeconds(10)).error()).isTrue();
        sqsApi.invoke(SqsEvents.standard(List.of(SqsEvents.item("digest", "{\"data\":\"x\"}"))), Duration.ofSeconds(10));
        httpApi.invoke(httpEvent("{\"items\":[{\"id\":\"a\",\"type\":\"digest\",\"payload\":{\"data\":\"x\"}}]}"),
                Duration.ofSeconds(10));
        sqs.drain(results);

        for (PackagedFunction function : List.of(sqsFunction, httpFunction)) {
            List<String> lines = function.log().lines().toList();
            assertThat(lines).isNotEmpty();
            for (String line : lines) {
                JsonNode json = EmfSpecification.parse(line);
                assertThat(json.isObject()).as(line).isTrue();
                assertThat(json.has("_aws") || json.has("level") && json.has("message")).as(line).isTrue();
                if (json.has("logger")) {
                    assertThat(json.get("functionName").asText()).as(line).isEqualTo("fanout");
                } else if (!json.has("_aws")) {
                    // the runtime client's own report of an invocation error, in Lambda's JSON shape
                    assertThat(json.get("AWSRequestId").asText()).as(line).isNotEmpty();
                }
            }
        }
    }

    @Test
    void httpAnswersAreCountedByStatusClass() throws Exception {
        var ok = httpApi.invoke(httpEvent("{\"items\":[{\"id\":\"a\",\"type\":\"digest\",\"payload\":{\"data\":\"x\"}},"
                + "{\"id\":\"b\",\"type\":\"nope\"}]}"), Duration.ofSeconds(10));
        var bad = httpApi.invoke(httpEvent("{\"items\": 3}"), Duration.ofSeconds(10));

        JsonNode okEvent = onlyEmfEventOf(httpFunction.log(), ok.requestId());
        JsonNode badEvent = onlyEmfEventOf(httpFunction.log(), bad.requestId());
        for (JsonNode event : List.of(okEvent, badEvent)) {
            assertThat(EmfSpecification.violations(event.toString())).isEmpty();
            assertThat(event.get("EntryPoint").asText()).isEqualTo("http");
        }
        assertThat(List.of(okEvent.get("status").asInt(), okEvent.get("answers2xx").asInt(),
                okEvent.get("answers4xx").asInt(), okEvent.get("answers5xx").asInt())).containsExactly(200, 1, 0, 0);
        assertThat(List.of(badEvent.get("status").asInt(), badEvent.get("answers2xx").asInt(),
                badEvent.get("answers4xx").asInt(), badEvent.get("answers5xx").asInt())).containsExactly(400, 0, 1, 0);
        assertThat(List.of(okEvent.get("items").asInt(), okEvent.get("succeeded").asInt(),
                okEvent.get("rejected").asInt(), okEvent.get("items.digest").asInt(), okEvent.get("items.other").asInt()))
                .containsExactly(2, 1, 1, 1, 1);
        assertThat(okEvent.get("traceId").asText()).isEqualTo(ok.traceId());
    }

    static String httpEvent(String body) throws Exception {
        ObjectNode event = (ObjectNode) MAPPER.readTree(SqsEvents.fixture("http-batch.json"));
        ((ObjectNode) event.get("requestContext")).put("timeEpoch", System.currentTimeMillis());
        event.put("body", body);
        return event.toString();
    }

    /** The one EMF event the invocation wrote, found by its request id. */
    static JsonNode onlyEmfEventOf(String log, String requestId) {
        List<JsonNode> events = EmfLog.events(log).stream()
                .filter(e -> requestId.equals(e.path("awsRequestId").asText())).toList();
        assertThat(events).as(log).hasSize(1);
        return events.get(0);
    }
}
