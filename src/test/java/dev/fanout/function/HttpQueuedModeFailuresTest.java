package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.testing.ProxyEvents.Format;
import dev.fanout.testing.ProxyEvents.Response;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * A 5xx answer of queued mode, through the mock event server with RestAssured: a work queue that takes
 * nothing is a 503 (retry later) with the reason, as problem details. {@link HttpInternalFailureTest}: 500.
 */
@QuarkusTest
@TestProfile(HttpQueuedModeFailuresTest.UnreachableWorkQueue.class)
class HttpQueuedModeFailuresTest {

    static ObjectNode asyncRequest() {
        ObjectNode event = Format.HTTP_API_V2.event("{\"items\":[{\"type\":\"digest\",\"payload\":{\"data\":\"x\"}}]}");
        return Format.HTTP_API_V2.withHeader(event, "Prefer", "respond-async");
    }

    /** A work queue on an endpoint where nothing listens, one attempt per entry. */
    public static class UnreachableWorkQueue implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.lambda.handler", "http",
                    "fanout.http-api.work-queue-url", "http://127.0.0.1:9/000000000000/work",
                    "fanout.results.endpoint", "http://127.0.0.1:9", "fanout.results.max-attempts", "1");
        }
    }

    @Test
    void isA503ProblemWithTheReason() {
        Response response = HttpFunctionTest.invoke(asyncRequest());

        assertThat(response.status()).isEqualTo(503);
        assertThat(response.headers()).containsEntry("Content-Type", "application/problem+json")
                .containsEntry("Retry-After", "1");
        JsonNode body = response.body();
        assertThat(body.get("type").asText()).isEqualTo("urn:fanout:problem:not-queued");
        assertThat(body.get("title").asText()).isEqualTo("No item could be queued");
        assertThat(body.get("status").asInt()).isEqualTo(503);
        assertThat(body.get("detail").asText()).startsWith(
                "none of the 1 items could be queued; item 0: not queued: gave up after 1 attempt: SendMessageBatch failed: ");
    }
}
