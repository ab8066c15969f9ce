package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import dev.fanout.testing.ProxyEvents.Response;
import io.quarkus.arc.Unremovable;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.enterprise.inject.Alternative;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

/**
 * The 500 answer, through the mock event server with RestAssured: a failure inside the function (here the
 * work queue's client throwing what no SQS client throws) is still an answer, as problem details.
 */
@QuarkusTest
@TestProfile(HttpInternalFailureTest.BrokenClient.class)
class HttpInternalFailureTest {

    /** A work queue whose client fails in a way the function does not expect. */
    public static class BrokenClient implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.lambda.handler", "http",
                    "fanout.http-api.work-queue-url", "http://127.0.0.1:9/000000000000/work");
        }

        @Override
        public Set<Class<?>> getEnabledAlternatives() {
            return Set.of(BrokenSqsClient.class);
        }
    }

    @Alternative
    @Singleton
    @Unremovable
    public static class BrokenSqsClient {
        @Produces
        @Singleton
        SqsClient client() {
            return new SqsClient() {
                @Override
                public SendMessageBatchResponse sendMessageBatch(SendMessageBatchRequest request) {
                    if (request.entries().isEmpty()) {
                        return SendMessageBatchResponse.builder().build(); // the start-up warm-up
                    }
                    throw new IllegalStateException("a bug");
                }

                @Override
                public String serviceName() {
                    return "sqs";
                }

                @Override
                public void close() {
                }
            };
        }
    }

    @Test
    void isA500ProblemAndTheFunctionStillAnswers() {
        Response response = HttpFunctionTest.invoke(HttpQueuedModeFailuresTest.asyncRequest());

        assertThat(response.status()).isEqualTo(500);
        assertThat(response.headers()).containsEntry("Content-Type", "application/problem+json");
        JsonNode body = response.body();
        assertThat(body.get("type").asText()).isEqualTo("urn:fanout:problem:internal");
        assertThat(body.get("title").asText()).isEqualTo("The function failed");
        assertThat(body.get("status").asInt()).isEqualTo(500);
        assertThat(body.get("detail").asText())
                .isEqualTo("the function failed (IllegalStateException); the request may be retried");
    }
}
