package dev.fanout.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * One result from a child JVM to the suite: {@code RESULT {"kind": ..., "result": {...}}} on the child's
 * stdout, one JSON object per line (Jackson writes no line breaks), the result a record bound by its
 * component names. Everything else the child prints is passed through as log. Jackson is loaded only
 * when a child prints its first result, after it measured.
 *
 * @param kind   what the result is ({@code "cpu"}, {@code "io"}, ...)
 * @param result the record, as JSON
 */
public record ResultLine(String kind, JsonNode result) {

    static final String PREFIX = "RESULT ";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Prints one result line (child side). */
    public static synchronized void emit(String kind, Record record) {
        System.out.println(PREFIX + write(kind, record));
        System.out.flush();
    }

    static String write(String kind, Record record) {
        try {
            return MAPPER.writeValueAsString(new ResultLine(kind, MAPPER.valueToTree(record)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + kind + " result " + record, e);
        }
    }

    /** The result line in {@code json} (what follows {@link #PREFIX}). */
    static ResultLine read(String json) {
        try {
            return MAPPER.readValue(json, ResultLine.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a result line: '" + json + "'", e);
        }
    }

    /** The result as a {@code type}; every component must be present. */
    <T extends Record> T as(Class<T> type) {
        for (var component : type.getRecordComponents()) {
            if (!result.has(component.getName())) {
                throw new IllegalArgumentException("no " + component.getName() + " in " + kind + " result " + result);
            }
        }
        try {
            return MAPPER.treeToValue(result, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot build " + type.getSimpleName() + " from " + result, e);
        }
    }
}
