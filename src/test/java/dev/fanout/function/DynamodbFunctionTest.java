package dev.fanout.function;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.SqsEvents;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.parsing.Parser;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The {@code dynamodb} entry point in the Quarkus application, through Quarkus's mock Lambda event server: the
 * fixture read by Quarkus's Lambda runtime (attribute values in DynamoDB's form), each change an item of the
 * configured type, every result on the results queue.
 */
@QuarkusTest
@TestProfile(DynamodbFunctionTest.DynamodbEntryPoint.class)
class DynamodbFunctionTest {

    // every digit of a number, as the function wrote it
    static final ObjectMapper MAPPER = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(com.fasterxml.jackson.databind.cfg.JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES).build();

    public static class DynamodbEntryPoint implements QuarkusTestProfile {
        @Override
        public Set<Class<?>> getEnabledAlternatives() {
            return Set.of(ElasticMqSqsClient.class);
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            ElasticMq sqs = ElasticMq.shared();
            return Map.of("quarkus.lambda.handler", "dynamodb",
                    "fanout.streams.dynamodb-type", "order-change",
                    "fanout.results.queue-url", sqs.createQueue("dynamodb-function"),
                    "fanout.results.endpoint", sqs.endpoint().toString(),
                    "fanout.cutoff-margin", "1s");
        }
    }

    @ConfigProperty(name = "fanout.results.queue-url")
    String queueUrl;

    @ConfigProperty(name = "fanout.results.endpoint")
    URI endpoint;

    @Test
    void everyChangeOfTheFixtureIsAnItemOfTheConfiguredType() throws Exception {
        String response = given().contentType(ContentType.JSON).body(SqsEvents.fixture("dynamodb-stream.json"))
                .when().post().then().using().parser("application/x-www-form-urlencoded", Parser.JSON)
                .statusCode(200).extract().asString();

        assertThat(MAPPER.readTree(response).get("batchItemFailures")).isEmpty();
        Map<String, JsonNode> results = new HashMap<>();
        try (SqsClient client = ElasticMq.client(endpoint)) {
            for (List<Message> messages; !(messages = client.receiveMessage(r -> r.queueUrl(queueUrl)
                    .maxNumberOfMessages(10).waitTimeSeconds(0).visibilityTimeout(300)).messages()).isEmpty();) {
                for (Message m : messages) {
                    JsonNode result = MAPPER.readTree(m.body());
                    results.put(result.get("sourceMessageId").asText(), result);
                }
            }
        }
        assertThat(results.keySet()).containsExactlyInAnyOrder("c4ca4238a0b923820dcc509a6f75849b",
                "c81e728d9d4c2f636f067f89cc14862c", "eccbc87e4b5ce2fe28308d09f39b5c7a", "a87ff679a2f3e71d9181a67b7542122c");
        // a user's handler binds each change as a record (OrderChange)
        assertThat(results.values()).allSatisfy(r -> assertThat(r.get("status").asText()).as(r.toString()).isEqualTo("succeeded"));
        assertThat(results.get("c4ca4238a0b923820dcc509a6f75849b").get("output").toString()).isEqualTo(
                "{\"order\":\"order-1/1\",\"event\":\"INSERT\",\"total\":12345678901234567890.000000000000000001,\"expiredByTtl\":false}");
        assertThat(results.get("a87ff679a2f3e71d9181a67b7542122c").get("output").toString()).isEqualTo(
                "{\"order\":\"order-2/1\",\"event\":\"REMOVE\",\"total\":3,\"expiredByTtl\":true}");
    }
}
