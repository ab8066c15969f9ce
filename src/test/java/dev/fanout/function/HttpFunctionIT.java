package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.RuntimeApiServer;
import dev.fanout.testing.SqsEvents;

/** The packaged HTTP entry point under the Runtime Interface Client: the deadline comes from the invocation. */
class HttpFunctionIT {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static RuntimeApiServer api;
    static PackagedFunction function;

    @BeforeAll
    static void start() throws Exception {
        api = RuntimeApiServer.start();
        // no results queue: the HTTP entry point needs none
        function = PackagedFunction.start("http", api, Map.of("FANOUT_HTTP_API_CUTOFF_MARGIN", "300ms"));
    }

    @AfterAll
    static void stop() {
        function.close();
        api.close();
    }

    static ObjectNode event(String body) throws Exception {
        ObjectNode event = (ObjectNode) MAPPER.readTree(SqsEvents.fixture("http-batch.json"));
        ((ObjectNode) event.get("requestContext")).put("timeEpoch", System.currentTimeMillis());
        event.put("body", body);
        return event;
    }

    @Test
    void aOneSecondInvocationDeadlineCutsTheBatchAndStillAnswers() throws Exception {
        var result = api.invoke(event("{\"items\":[{\"id\":\"fast\",\"type\":\"delay\",\"payload\":{\"millis\":10}},"
                + "{\"id\":\"slow\",\"type\":\"delay\",\"payload\":{\"millis\":20000}}]}").toString(), Duration.ofSeconds(1));

        assertThat(result.error()).as(result.body() + function.log()).isFalse();
        assertThat(result.answeredBeforeDeadline()).as("answered after %s", result.elapsed()).isTrue();
        JsonNode response = MAPPER.readTree(result.body());
        assertThat(response.get("statusCode").asInt()).isEqualTo(200);
        JsonNode results = MAPPER.readTree(response.get("body").asText()).get("results");
        assertThat(results.get(0).get("status").asText()).isEqualTo("succeeded");
        assertThat(results.get(1).get("status").asText()).isEqualTo("timed_out");
        assertThat(results.get(1).at("/error/message").asText()).isEqualTo("cancelled at the invocation's cut-off");
    }

    @Test
    void theSampleEventGetsPerItemResults() throws Exception {
        ObjectNode event = (ObjectNode) MAPPER.readTree(SqsEvents.fixture("http-batch.json"));
        ((ObjectNode) event.get("requestContext")).put("timeEpoch", System.currentTimeMillis());

        var result = api.invoke(event.toString(), Duration.ofSeconds(10));

        JsonNode body = MAPPER.readTree(MAPPER.readTree(result.body()).get("body").asText());
        assertThat(body.get("results")).hasSize(5);
        assertThat(body.at("/summary/succeeded").asInt()).isEqualTo(2);
        assertThat(body.at("/summary/rejected").asInt()).isEqualTo(3);
    }
}
