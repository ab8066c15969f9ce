package dev.fanout.work;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.engine.RejectedItemException;

/**
 * How one idempotent function keys its items: by the item's id, or by the hash of payload fields (JSON pointers);
 * and which part of the payload must match a stored record's (all of it, or chosen fields), compared by hash.
 * Hashes are SHA-256 of canonical JSON (object fields sorted), so field order never makes two payloads differ.
 */
record IdempotencyKeys(List<JsonPointer> key, List<JsonPointer> payload) {

    /** A record key longer than this (UTF-8 bytes) is hashed: DynamoDB's partition keys stop at 2,048. */
    static final int LONGEST_PLAIN_KEY = 1024;

    /** By the item's id, the whole payload validated. */
    static final IdempotencyKeys BY_ID = new IdempotencyKeys(List.of(), List.of());

    /** One item's record key (the function's name and its key) and its payload's hash. */
    record Keyed(String recordKey, String payloadHash) {
    }

    /**
     * The policy an {@code @Idempotent} annotation gives.
     *
     * @throws IllegalStateException naming the function, if a pointer is not one, is repeated, or names fields of
     *                               a function that takes no payload
     */
    static IdempotencyKeys of(Idempotent annotation, String function, String signature, boolean takesPayload) {
        List<JsonPointer> key = pointers(annotation.key(), "key", function, signature);
        List<JsonPointer> payload = pointers(annotation.payload(), "payload", function, signature);
        if (!takesPayload && (!key.isEmpty() || !payload.isEmpty())) {
            throw new IllegalStateException("function '" + function + "' (" + signature + ") is @Idempotent with"
                    + " payload fields, but takes no payload: drop key/payload, or give it an input parameter");
        }
        return new IdempotencyKeys(key, payload);
    }

    private static List<JsonPointer> pointers(String[] texts, String attribute, String function, String signature) {
        Set<String> seen = new LinkedHashSet<>();
        List<JsonPointer> pointers = new ArrayList<>();
        for (String text : texts) {
            if (!seen.add(text)) {
                throw new IllegalStateException("function '" + function + "' (" + signature + "): @Idempotent("
                        + attribute + ") names '" + text + "' twice");
            }
            try {
                pointers.add(JsonPointer.compile(text));
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("function '" + function + "' (" + signature + "): @Idempotent("
                        + attribute + ") '" + text + "' is not a JSON pointer (RFC 6901: empty, or starting with '/'):"
                        + " " + e.getMessage());
            }
        }
        return List.copyOf(pointers);
    }

    /**
     * The item's record key and payload hash.
     *
     * @throws RejectedItemException if the key is empty, or a pointer selects nothing, with the reason
     */
    Keyed of(WorkItem item, ObjectMapper mapper) {
        String itemKey;
        if (key.isEmpty()) {
            if (item.id().isBlank()) {
                throw new RejectedItemException("idempotency key of '" + item.type() + "' item is empty: its id is blank");
            }
            itemKey = item.id();
        } else {
            itemKey = "sha256:" + sha256(canonical(selected(item, key, "key"), mapper));
        }
        String recordKey = item.type() + "#" + itemKey;
        if (recordKey.getBytes(StandardCharsets.UTF_8).length > LONGEST_PLAIN_KEY) {
            recordKey = item.type() + "#sha256:" + sha256(itemKey.getBytes(StandardCharsets.UTF_8));
        }
        JsonNode validated = payload.isEmpty() ? item.payload() : selected(item, payload, "payload");
        return new Keyed(recordKey, sha256(canonical(validated, mapper)));
    }

    private static ArrayNode selected(WorkItem item, List<JsonPointer> pointers, String attribute) {
        ArrayNode values = JsonNodeFactory.instance.arrayNode(pointers.size());
        for (JsonPointer pointer : pointers) {
            JsonNode value = item.payload().at(pointer);
            if (value.isMissingNode()) {
                throw new RejectedItemException("idempotency " + attribute + " of '" + item.type() + "' item: JSON"
                        + " pointer '" + pointer + "' selects nothing in the payload");
            }
            if ("key".equals(attribute) && empty(value)) {
                throw new RejectedItemException("idempotency key of '" + item.type() + "' item is empty: '" + pointer
                        + "' selects " + (value.isNull() ? "null" : "an empty value"));
            }
            values.add(value);
        }
        return values;
    }

    private static boolean empty(JsonNode value) {
        return value.isNull() || value.isTextual() && value.asText().isBlank() || value.isContainerNode() && value.isEmpty();
    }

    /** The JSON text of {@code value} with every object's fields sorted. */
    static byte[] canonical(JsonNode value, ObjectMapper mapper) {
        try {
            return mapper.writeValueAsBytes(sorted(value));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode sorted(JsonNode value) {
        if (value.isObject()) {
            Map<String, JsonNode> fields = new TreeMap<>();
            value.properties().forEach(field -> fields.put(field.getKey(), sorted(field.getValue())));
            ObjectNode copy = JsonNodeFactory.instance.objectNode();
            copy.setAll(fields);
            return copy;
        }
        if (value.isArray()) {
            ArrayNode copy = JsonNodeFactory.instance.arrayNode(value.size());
            value.forEach(element -> copy.add(sorted(element)));
            return copy;
        }
        return value;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
