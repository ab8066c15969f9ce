package dev.fanout.fanin;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * One message for the results queue. Its body and attribute values are made valid for SQS here
 * ({@link JsonText#sqsValid}), so that no sender can build a message SQS refuses for its characters.
 *
 * @param body             the JSON result
 * @param attributes       string message attributes (the status, so consumers can filter on it)
 * @param groupId          MessageGroupId, for a FIFO results queue
 * @param deduplicationId  MessageDeduplicationId, for a FIFO results queue
 * @param substitution     what replaces the message when SQS refuses it or it is over the message limit; a
 *                         message without one (not a record's result: a queued work item) is never replaced
 */
public record ResultMessage(String body, Map<String, String> attributes, Optional<String> groupId,
        Optional<String> deduplicationId, Optional<Substitution> substitution) {

    /**
     * What is sent in place of a record's result that cannot go out as it is. The sink decides when (a refusal
     * as the sender's fault, a size over the queue's limit); the result's format decides what.
     */
    public interface Substitution {

        /**
         * The body and attributes of the minimal error result sent once in place of a refused result; empty if
         * the result cannot have one (it names no record), and it is reported undelivered.
         */
        Optional<Substitute> refused(String reason);

        /**
         * A smaller result that says why the output is not there, for one of {@code size} bytes over the
         * {@code limit}; empty if there is none, and the minimal error result takes its place.
         */
        Optional<Substitute> withinLimit(int size, int limit);
    }

    /** A substitute's body and attributes; it keeps the group, the deduplication id and the substitution. */
    public record Substitute(String body, Map<String, String> attributes) {
    }

    public ResultMessage {
        body = JsonText.sqsValid(Objects.requireNonNull(body, "body"));
        var valid = new HashMap<String, String>();
        attributes.forEach((name, value) -> valid.put(JsonText.sqsValid(name), JsonText.sqsValid(value)));
        attributes = Map.copyOf(valid);
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(deduplicationId, "deduplicationId");
        Objects.requireNonNull(substitution, "substitution");
    }

    public ResultMessage(String body, Map<String, String> attributes, Optional<String> groupId,
            Optional<String> deduplicationId) {
        this(body, attributes, groupId, deduplicationId, Optional.empty());
    }

    /**
     * The minimal error result sent once in place of this one when SQS refuses it as the sender's fault:
     * SQS-valid, a few hundred bytes, in the same group with the same deduplication id, so it cannot be
     * refused for its content or size and keeps the group's order. Empty without a substitution.
     */
    Optional<ResultMessage> refused(String reason) {
        return substitution.flatMap(s -> s.refused(reason)).map(this::replacedBy);
    }

    /** The smaller form of this message, over {@code limit} at {@code size} bytes, if its substitution has one. */
    Optional<ResultMessage> withinLimit(int size, int limit) {
        return substitution.flatMap(s -> s.withinLimit(size, limit)).map(this::replacedBy);
    }

    private ResultMessage replacedBy(Substitute replacement) {
        return new ResultMessage(replacement.body(), replacement.attributes(), groupId, deduplicationId, substitution);
    }

    /**
     * The size SQS counts against its message and batch limits: the body plus each attribute's name,
     * data type ("String") and value, in UTF-8 bytes.
     */
    public int sizeInBytes() {
        int size = utf8Length(body);
        for (Map.Entry<String, String> attribute : attributes.entrySet()) {
            size += utf8Length(attribute.getKey()) + STRING_TYPE.length() + utf8Length(attribute.getValue());
        }
        return size;
    }

    /** The attributes as SQS takes them: each a value of data type "String". */
    public Map<String, MessageAttributeValue> sqsAttributes() {
        var values = new HashMap<String, MessageAttributeValue>();
        attributes.forEach((name, value) -> values.put(name,
                MessageAttributeValue.builder().dataType(STRING_TYPE).stringValue(value).build()));
        return values;
    }

    private static final String STRING_TYPE = "String";

    static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
