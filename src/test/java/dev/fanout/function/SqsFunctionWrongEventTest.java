package dev.fanout.function;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.parsing.Parser;
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;

/**
 * The SQS entry point in the Quarkus application, through Quarkus's mock event server: an event of another kind
 * (the fixtures of the API Gateway and stream events) fails the invocation with an error that names the kind and
 * the handler that serves it; an SQS event with no records is a success.
 */
@QuarkusTest
@TestProfile(SqsFunctionWrongEventTest.SqsEntryPoint.class)
class SqsFunctionWrongEventTest {

    static final ObjectMapper MAPPER = new ObjectMapper();

    /** A results queue nobody answers on: none of these events gets as far as sending a result. */
    public static class SqsEntryPoint implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.lambda.handler", "sqs",
                    "fanout.results.queue-url", "http://127.0.0.1:9/000000000000/results",
                    "fanout.results.endpoint", "http://127.0.0.1:9");
        }
    }

    static ExtractableResponse<Response> invoke(String event) {
        return given().contentType(ContentType.JSON).body(event).when().post().then().using()
                .parser("application/x-www-form-urlencoded", Parser.JSON).extract();
    }

    /** The function error the mock event server passes back, as Lambda reports it. */
    static JsonNode functionError(String event) throws Exception {
        var response = invoke(event);
        assertThat(response.statusCode()).as(response.body().asString()).isEqualTo(500);
        return MAPPER.readTree(response.body().asByteArray());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "events/http-batch.json | an API Gateway proxy event, which QUARKUS_LAMBDA_HANDLER=http serves",
            "events/rest-api-batch.json | an API Gateway proxy event, which QUARKUS_LAMBDA_HANDLER=http serves",
            "src/test/resources/foreign-events/kinesis.json | a Kinesis stream event, which QUARKUS_LAMBDA_HANDLER=kinesis serves",
            "src/test/resources/foreign-events/dynamodb.json | a DynamoDB stream event, which QUARKUS_LAMBDA_HANDLER=dynamodb serves" })
    void anEventOfAnotherKindFailsTheInvocation(String fixture, String looksLike) throws Exception {
        JsonNode error = functionError(Files.readString(Path.of(fixture)));

        assertThat(error.get("errorType").asText()).isEqualTo(WrongEventException.class.getName());
        assertThat(error.get("errorMessage").asText()).isEqualTo("not an SQS event: this looks like " + looksLike
                + "; this function runs QUARKUS_LAMBDA_HANDLER=sqs (check the trigger wired to it)");
    }

    @Test
    void anSqsEventWithNoRecordsIsASuccess() throws Exception {
        var response = invoke(Files.readString(Path.of("events/sqs-empty.json")));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body().asString()).isEqualTo("{\"batchItemFailures\":[]}");
    }
}
