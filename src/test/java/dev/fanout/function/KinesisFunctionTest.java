package dev.fanout.function;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.SqsEvents;
import dev.fanout.testing.StreamEvents;
import dev.fanout.testing.StreamEvents.Put;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.parsing.Parser;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The {@code kinesis} entry point in the Quarkus application, invoked through Quarkus's mock Lambda event server:
 * the event read by Quarkus's Lambda runtime itself (with the application's ObjectMapper customizations), the
 * results on an embedded ElasticMQ, the response Lambda checkpoints by.
 */
@QuarkusTest
@TestProfile(KinesisFunctionTest.KinesisEntryPoint.class)
class KinesisFunctionTest {

    static final ObjectMapper MAPPER = new ObjectMapper();

    public static class KinesisEntryPoint implements QuarkusTestProfile {
        @Override
        public Set<Class<?>> getEnabledAlternatives() {
            return Set.of(ElasticMqSqsClient.class);
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            ElasticMq sqs = ElasticMq.shared();
            return Map.of("quarkus.lambda.handler", "kinesis",
                    "fanout.results.queue-url", sqs.createQueue("kinesis-function"),
                    "fanout.results.endpoint", sqs.endpoint().toString(),
                    "fanout.cutoff-margin", "1s");
        }
    }

    @ConfigProperty(name = "fanout.results.queue-url")
    String queueUrl;

    @ConfigProperty(name = "fanout.results.endpoint")
    URI endpoint;

    static List<String> invoke(String event) throws Exception {
        // the mock event server labels the stream handler's answer as a form; it is the response's JSON
        String response = given().contentType(ContentType.JSON).body(event).when().post()
                .then().using().parser("application/x-www-form-urlencoded", Parser.JSON)
                .statusCode(200).extract().asString();
        List<String> identifiers = new ArrayList<>();
        MAPPER.readTree(response).get("batchItemFailures").forEach(f -> identifiers.add(f.get("itemIdentifier").asText()));
        return identifiers;
    }

    Map<String, JsonNode> drain() throws Exception {
        Map<String, JsonNode> results = new HashMap<>();
        try (SqsClient client = ElasticMq.client(endpoint)) {
            while (true) {
                List<Message> messages = client.receiveMessage(r -> r.queueUrl(queueUrl).maxNumberOfMessages(10)
                        .waitTimeSeconds(0).visibilityTimeout(300)).messages();
                if (messages.isEmpty()) {
                    return results;
                }
                for (Message m : messages) {
                    JsonNode result = MAPPER.readTree(m.body());
                    results.put(result.get("sourceMessageId").asText(), result);
                }
            }
        }
    }

    static String eventId(int i) {
        return StreamEvents.SHARD + ":" + StreamEvents.sequenceNumber(i);
    }

    @Test
    void theFixtureSucceedsAndABadRecordIsRejectedAloneWhileAFailedOneIsWhereLambdaResumes() throws Exception {
        assertThat(invoke(SqsEvents.fixture("kinesis-stream.json"))).isEmpty();
        assertThat(drain()).hasSize(6).allSatisfy((id, r) -> assertThat(r.get("status").asText()).isEqualTo("succeeded"));

        ObjectNode event = StreamEvents.kinesisEvent(List.of(
                new Put("a", StreamEvents.item("a-0", "delay", "{\"millis\":1}")),
                new Put("c", "data replaced below"),
                new Put("a", StreamEvents.item("a-2", "delay", "{\"millis\":1,\"failRate\":1}")),
                new Put("b", StreamEvents.item("b-3", "delay", "{\"millis\":1}")),
                new Put("a", StreamEvents.item("a-4", "delay", "{\"millis\":1}"))));
        ((ObjectNode) event.get("Records").get(1).get("kinesis")).put("data", "not base64!");

        assertThat(invoke(event.toString())).containsExactly(StreamEvents.sequenceNumber(2));
        Map<String, JsonNode> results = drain();
        assertThat(results.keySet()).containsExactlyInAnyOrder(eventId(0), eventId(1), eventId(3));
        assertThat(results.get(eventId(1)).get("status").asText()).isEqualTo("rejected");
        assertThat(results.get(eventId(1)).at("/error/message").asText()).isEqualTo("data is not base64");
    }
}
