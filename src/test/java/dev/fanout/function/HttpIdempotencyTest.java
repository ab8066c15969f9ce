package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import dev.fanout.function.idempotency.DynamoDbClients;
import dev.fanout.testing.Dynalite;
import dev.fanout.testing.ProxyEvents.Format;
import dev.fanout.testing.ProxyEvents.Response;
import io.quarkus.arc.Unremovable;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.enterprise.inject.Alternative;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Idempotency from the configuration to the store, on the packaged application's wiring: the built-in {@code greet}
 * made idempotent by name ({@code fanout.idempotency.functions}), its records in dynalite
 * ({@code fanout.idempotency.table} and {@code .endpoint}), items sent through the HTTP entry point. The profile
 * creates the table and leaves its endpoint and name in system properties, which the test reads: the profile and
 * the test see the harness through different class loaders. Only the client's credentials are the test's own
 * (the local server's, in place of Lambda's chain); the region, endpoint, table and functions come from the
 * configuration through the wiring.
 */
@QuarkusTest
@TestProfile(HttpIdempotencyTest.IdempotentGreet.class)
class HttpIdempotencyTest {

    public static class IdempotentGreet implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Dynalite dynalite = Dynalite.shared();
            String table = dynalite.createTable();
            System.setProperty("idempotency-test.endpoint", dynalite.endpoint().toString());
            System.setProperty("idempotency-test.table", table);
            return Map.of("quarkus.lambda.handler", "http",
                    "fanout.idempotency.functions", "greet",
                    "fanout.idempotency.table", table,
                    "fanout.idempotency.endpoint", dynalite.endpoint().toString());
        }

        @Override
        public Set<Class<?>> getEnabledAlternatives() {
            return Set.of(LocalCredentials.class);
        }
    }

    /** The wiring's client, with the local server's credentials in place of Lambda's chain. */
    @Alternative
    @Singleton
    @Unremovable
    public static class LocalCredentials {
        @Produces
        @Singleton
        DynamoDbClients clients() {
            return (region, endpoint) -> Dynalite.client(endpoint.orElseThrow());
        }
    }

    static Response greet(String id, String name) {
        return HttpFunctionTest.invoke(Format.HTTP_API_V2.event("{\"items\":[{\"id\":\"" + id + "\",\"type\":\"greet\","
                + "\"payload\":{\"name\":\"" + name + "\"}}]}"));
    }

    @Test
    void aRedeliveredItemGetsItsStoredOutputAndAnotherPayloadUnderItsIdIsRejected() {
        String table = System.getProperty("idempotency-test.table");
        try (DynamoDbClient client = Dynalite.client(URI.create(System.getProperty("idempotency-test.endpoint")))) {
            JsonNode first = greet("g-1", "Ada").results().get(0);
            assertThat(first.get("status").asText()).as("%s", first).isEqualTo("succeeded");
            assertThat(first.at("/output/greeting").asText()).isEqualTo("Hello, Ada");

            Map<String, AttributeValue> key = Map.of("id", AttributeValue.fromS("greet#g-1"));
            Map<String, AttributeValue> record = client.getItem(b -> b.tableName(table).key(key).consistentRead(true)).item();
            assertThat(record.get("status").s()).isEqualTo("COMPLETED");
            assertThat(record.get("output").s()).isEqualTo("{\"greeting\":\"Hello, Ada\"}");

            // the stored output changed behind the function's back: a redelivery that ran would not see it
            client.updateItem(b -> b.tableName(table).key(key).updateExpression("SET #output = :stored")
                    .expressionAttributeNames(Map.of("#output", "output"))
                    .expressionAttributeValues(Map.of(":stored", AttributeValue.fromS("{\"greeting\":\"stored\"}"))));
            JsonNode again = greet("g-1", "Ada").results().get(0);
            assertThat(again.get("status").asText()).as("%s", again).isEqualTo("succeeded");
            assertThat(again.at("/output/greeting").asText()).isEqualTo("stored");

            JsonNode other = greet("g-1", "Bob").results().get(0);
            assertThat(other.get("status").asText()).isEqualTo("rejected");
            assertThat(other.at("/error/message").asText()).startsWith("idempotency key of 'greet' item was used with"
                    + " another payload");
        }
    }
}
