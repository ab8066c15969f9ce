package dev.fanout.batch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;

import dev.fanout.fanin.JsonText;

/**
 * The one writer of {@link ResultRecord}'s JSON shape: the results queue's message, the fallback and refused results,
 * and each element of an HTTP answer's {@code results} are written here, field by field, in the record's order
 * ({@code sourceMessageId, itemId, type, status, output, error, attempt, startedAt, durationMs, batchId, itemIndex}),
 * absent fields left out, every string through {@link JsonText}. The text is valid JSON and a valid SQS message body.
 * <p>
 * Only the output, any JSON a function returned, goes through Jackson ({@link #output}), configured to escape as
 * {@link JsonText} does, and made SQS-valid by it. Everything else uses no reflection and no Jackson, so that
 * {@link #withoutOutput} cannot fail: it is what is written when Jackson fails.
 * <p>
 * An HTTP answer writes the output apart (escaped once on its item's thread) and counts each piece's bytes, so the
 * shape is also given in two parts: {@link #head} (up to the status) and {@link #tail} (from the error on).
 */
public final class ResultJson {

    private static final String OUTPUT_FIELD = ",\"output\":";

    private final ObjectWriter outputs;

    public ResultJson(ObjectMapper mapper) {
        this.outputs = mapper.writer().without(JsonWriteFeature.WRITE_HEX_UPPER_CASE);
    }

    /** The record's JSON; throws only if Jackson cannot write its output. */
    public String write(ResultRecord result) throws JsonProcessingException {
        return result.output() == null ? withoutOutput(result) : write(result, output(result.output()));
    }

    /**
     * {@link #write}, the units SQS refuses inside the output left as Jackson wrote them: for a results-queue message,
     * which escapes them itself ({@code ResultMessage} makes every body SQS-valid), by the same rule, to the same text,
     * in one pass over the output instead of two.
     */
    String writeForMessage(ResultRecord result) throws JsonProcessingException {
        return result.output() == null ? withoutOutput(result) : write(result, outputText(result.output()));
    }

    private static String write(ResultRecord result, String output) {
        var json = new StringBuilder(output.length() + 256);
        appendHead(json, result);
        json.append(OUTPUT_FIELD).append(output);
        return appendTail(json, result).toString();
    }

    /** An output as JSON text, escaped as {@link JsonText} escapes and valid for SQS. */
    public String output(JsonNode output) throws JsonProcessingException {
        return JsonText.sqsValid(outputText(output));
    }

    /**
     * An output as Jackson writes it with {@link JsonText}'s forms, the units SQS refuses not yet escaped: for a
     * caller that escapes them anyway, as {@link JsonText#answerBytes} does (one pass over the output instead of two).
     */
    public String outputText(JsonNode output) throws JsonProcessingException {
        return outputs.writeValueAsString(output);
    }

    /** The record's JSON without its output, whatever it holds: never fails. */
    public static String withoutOutput(ResultRecord result) {
        var json = new StringBuilder(256);
        appendHead(json, result);
        return appendTail(json, result).toString();
    }

    /** The record's fields before its output: {@code {"itemId":...,"status":"..."}} without the closing brace. */
    public static String head(ResultRecord result) {
        return appendHead(new StringBuilder(128), result).toString();
    }

    /** The record's fields after its output, and the closing brace; it follows a {@link #head} that wrote a field. */
    public static String tail(ResultRecord result) {
        return appendTail(new StringBuilder(128), result).toString();
    }

    /** The field that introduces an output written apart, between {@link #head} and {@link #tail}. */
    public static String outputField() {
        return OUTPUT_FIELD;
    }

    private static StringBuilder appendHead(StringBuilder json, ResultRecord result) {
        json.append('{');
        string(json, "sourceMessageId", result.sourceMessageId());
        string(json, "itemId", result.itemId());
        string(json, "type", result.type());
        return string(json, "status", result.status());
    }

    private static StringBuilder appendTail(StringBuilder json, ResultRecord result) {
        ResultRecord.Error error = result.error();
        if (error != null) {
            JsonText.appendQuoted(name(json, "error").append("{\"type\":"), error.type());
            JsonText.appendQuoted(json.append(",\"message\":"), error.message());
            json.append(",\"retryable\":").append(error.retryable()).append('}');
        }
        number(json, "attempt", result.attempt());
        string(json, "startedAt", result.startedAt());
        number(json, "durationMs", result.durationMs());
        string(json, "batchId", result.batchId());
        number(json, "itemIndex", result.itemIndex());
        return json.append('}');
    }

    /** {@code "name":}, after a comma unless it is the object's first field (a tail written apart follows a head). */
    private static StringBuilder name(StringBuilder json, String name) {
        if (json.isEmpty() || json.charAt(json.length() - 1) != '{') {
            json.append(',');
        }
        return json.append('"').append(name).append("\":");
    }

    /** A string field, left out when null (ResultRecord's NON_NULL). */
    private static StringBuilder string(StringBuilder json, String name, String value) {
        return value == null ? json : JsonText.appendQuoted(name(json, name), value);
    }

    private static void number(StringBuilder json, String name, Number value) {
        if (value != null) {
            name(json, name).append(value.longValue());
        }
    }
}
