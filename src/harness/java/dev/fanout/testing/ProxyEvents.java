package dev.fanout.testing;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * API Gateway proxy events in both payload formats, made from the AWS-shaped fixtures in {@code events/}
 * with another body, method or header, arriving now; and the proxy responses, read back.
 */
public final class ProxyEvents {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** The three ways API Gateway calls the function, each with its fixture. */
    public enum Format {
        /** REST API: payload format 1.0, no version field, header names as sent. */
        REST_API("rest-api-batch.json"),
        /** HTTP API configured for payload format 1.0. */
        HTTP_API_V1("http-api-v1-batch.json"),
        /** HTTP API, payload format 2.0 (the template's). */
        HTTP_API_V2("http-batch.json");

        private final String fixture;

        Format(String fixture) {
            this.fixture = fixture;
        }

        public boolean v2() {
            return this == HTTP_API_V2;
        }

        /** The fixture as it is, arriving now. */
        public ObjectNode event() {
            try {
                ObjectNode event = (ObjectNode) MAPPER.readTree(SqsEvents.fixture(fixture));
                ((ObjectNode) event.get("requestContext")).put(v2() ? "timeEpoch" : "requestTimeEpoch",
                        System.currentTimeMillis());
                return event;
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        /** The fixture with {@code body}, arriving now. */
        public ObjectNode event(String body) {
            ObjectNode event = event();
            event.put("body", body);
            return event;
        }

        /** The fixture with a base64 body of {@code bytes}. */
        public ObjectNode base64Event(byte[] bytes) {
            ObjectNode event = event(Base64.getEncoder().encodeToString(bytes));
            event.put("isBase64Encoded", true);
            return event;
        }

        public ObjectNode withMethod(ObjectNode event, String method) {
            if (v2()) {
                ((ObjectNode) event.at("/requestContext/http")).put("method", method);
            } else {
                event.put("httpMethod", method);
                ((ObjectNode) event.get("requestContext")).put("httpMethod", method);
            }
            return event;
        }

        /** Sets a header (replacing any of the same name in any case), or removes it if {@code value} is null. */
        public ObjectNode withHeader(ObjectNode event, String name, String value) {
            String key = v2() ? name.toLowerCase(java.util.Locale.ROOT) : name;
            for (String field : v2() ? new String[] {"headers"} : new String[] {"headers", "multiValueHeaders"}) {
                ObjectNode headers = (ObjectNode) event.get(field);
                for (Iterator<String> names = headers.fieldNames(); names.hasNext();) {
                    if (names.next().equalsIgnoreCase(name)) {
                        names.remove();
                    }
                }
                if (value != null) {
                    if (field.equals("headers")) {
                        headers.put(key, value);
                    } else {
                        headers.putArray(key).add(value);
                    }
                }
            }
            return event;
        }

        /** Moves the arrival {@code millis} into the past. */
        public ObjectNode arrivedAgo(ObjectNode event, long millis) {
            ((ObjectNode) event.get("requestContext")).put(v2() ? "timeEpoch" : "requestTimeEpoch",
                    System.currentTimeMillis() - millis);
            return event;
        }
    }

    private ProxyEvents() {
    }

    /** A proxy response, read: status, headers, the body's JSON. */
    public record Response(int status, Map<String, String> headers, JsonNode body, int bytes) {

        public static Response read(byte[] response) {
            try {
                JsonNode node = MAPPER.readTree(response);
                Map<String, String> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
                node.path("headers").fields().forEachRemaining(h -> headers.put(h.getKey(), h.getValue().asText()));
                return new Response(node.get("statusCode").asInt(), headers, MAPPER.readTree(node.get("body").asText()),
                        response.length);
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }

        public static Response read(String response) {
            return read(response.getBytes(StandardCharsets.UTF_8));
        }

        public JsonNode results() {
            return body.get("results");
        }
    }

    /** {@code {"items": [...]}} of the given items' JSON. */
    public static String batch(Iterable<String> items) {
        ArrayNode array = MAPPER.createArrayNode();
        try {
            for (String item : items) {
                array.add(MAPPER.readTree(item));
            }
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return MAPPER.createObjectNode().set("items", array).toString();
    }
}
