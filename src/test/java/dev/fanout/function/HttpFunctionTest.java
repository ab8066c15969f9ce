package dev.fanout.function;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.testing.SqsEvents;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;

/**
 * The API Gateway entry point in the Quarkus application, invoked through Quarkus's mock Lambda event
 * server with RestAssured: API Gateway HTTP API events (payload format 2.0) in, proxy responses out.
 */
@QuarkusTest
@TestProfile(HttpFunctionTest.HttpEntryPoint.class)
class HttpFunctionTest {

    public static class HttpEntryPoint implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.lambda.handler", "http");
        }
    }

    static final ObjectMapper MAPPER = new ObjectMapper();

    /** The AWS-documented HTTP API event, arriving now. */
    static ObjectNode event(String body) throws Exception {
        ObjectNode event = (ObjectNode) MAPPER.readTree(SqsEvents.fixture("http-batch.json"));
        ((ObjectNode) event.get("requestContext")).put("timeEpoch", System.currentTimeMillis());
        if (body != null) {
            event.put("body", body);
        }
        return event;
    }

    static JsonNode invoke(ObjectNode event) throws Exception {
        String response = given().contentType(ContentType.JSON).body(event.toString()).when().post()
                .then().statusCode(200).extract().asString();
        return MAPPER.readTree(response);
    }

    @Test
    void resultsComeBackInInputOrderAndBadItemsAreRejectedAlone() throws Exception {
        JsonNode response = invoke(event(null));

        assertThat(response.get("statusCode").asInt()).isEqualTo(200);
        JsonNode body = MAPPER.readTree(response.get("body").asText());
        JsonNode results = body.get("results");
        assertThat(results).hasSize(5);
        assertThat(results.get(0).get("itemId").asText()).isEqualTo("a");
        assertThat(results.get(0).get("status").asText()).isEqualTo("succeeded");
        assertThat(results.get(0).at("/output/rounds").asInt()).isEqualTo(2);
        assertThat(results.get(1).at("/output/sleptMillis").asInt()).isEqualTo(5);
        assertThat(results.get(2).at("/error/message").asText())
                .isEqualTo("unknown item type 'teleport' (known types: delay, digest, greet, http)");
        assertThat(results.get(3).at("/error/message").asText()).isEqualTo("'digest' payload: field 'data' is required");
        assertThat(results.get(4).get("itemId").asText()).isEqualTo("4");
        assertThat(results.get(4).at("/error/message").asText()).isEqualTo("item must be a JSON object, was a string");
        assertThat(body.at("/summary/succeeded").asInt()).isEqualTo(2);
        assertThat(body.at("/summary/rejected").asInt()).isEqualTo(3);
    }

    @Test
    void aUserHandlerIsReachedByItsType() throws Exception {
        JsonNode response = invoke(event("{\"items\":[{\"type\":\"greet\",\"payload\":{\"name\":\"Ada\"}},"
                + "{\"type\":\"greet\",\"payload\":{\"name\":\"Ada\",\"nom\":\"x\"}},"
                + "{\"type\":\"greet\",\"payload\":{\"nom\":\"Ada\"}}]}"));

        JsonNode results = MAPPER.readTree(response.get("body").asText()).get("results");
        assertThat(results.get(0).at("/output/greeting").asText()).isEqualTo("Hello, Ada");
        assertThat(results.get(1).at("/error/message").asText()).isEqualTo("'greet' payload: unknown field 'nom'");
        assertThat(results.get(2).at("/error/message").asText()).isEqualTo("'greet' payload: field 'name' is required");
    }

    @Test
    void requestsThatAreNoBatchGetAClearClientError() throws Exception {
        assertError(event("{\"items\": "), 400, "the body is not valid JSON: Unexpected end-of-input");
        assertError(event("[1, 2]"), 400, "the body must be a JSON object with an array 'items'");
        assertError(event("{\"items\": {}}"), 400, "field 'items' must be an array of items");
        ObjectNode get = event("{}");
        ((ObjectNode) get.at("/requestContext/http")).put("method", "GET");
        assertError(get, 405, "use POST with a JSON body {\"items\": [...]}, not GET");
        StringBuilder many = new StringBuilder("{\"items\":[");
        for (int i = 0; i < 1001; i++) {
            many.append(i == 0 ? "" : ",").append("{\"type\":\"delay\"}");
        }
        assertError(event(many.append("]}").toString()), 413, "a request carries at most 1000 items, this one has 1001");
    }

    @Test
    void aRequestThatArrivedTooLongAgoIsTurnedAwayNotRun() throws Exception {
        ObjectNode event = event("{\"items\":[{\"type\":\"delay\",\"payload\":{\"millis\":1}}]}");
        ((ObjectNode) event.get("requestContext")).put("timeEpoch", System.currentTimeMillis() - 28_800);
        assertError(event, 503, "no time left to run the batch before the deadline; retry");
    }

    @Test
    void base64Bodies() throws Exception {
        ObjectNode event = event(java.util.Base64.getEncoder().encodeToString(
                "{\"items\":[{\"type\":\"digest\",\"payload\":{\"data\":\"x\"}}]}".getBytes()));
        event.put("isBase64Encoded", true);
        JsonNode results = MAPPER.readTree(invoke(event).get("body").asText()).get("results");
        assertThat(results.get(0).get("status").asText()).isEqualTo("succeeded");
    }

    static void assertError(ObjectNode event, int status, String messageStart) throws Exception {
        given().contentType(ContentType.JSON).body(event.toString()).when().post()
                .then().statusCode(200).body("statusCode", equalTo(status));
        JsonNode response = invoke(event);
        assertThat(MAPPER.readTree(response.get("body").asText()).get("error").asText()).startsWith(messageStart);
    }
}
