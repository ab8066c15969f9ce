package dev.fanout.fanin;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One message for the results queue. Its body and attribute values are made valid for SQS here
 * ({@link SqsText}), so that no sender can build a message SQS refuses for its characters.
 *
 * @param body             the JSON result
 * @param attributes       string message attributes (the status, so consumers can filter on it)
 * @param groupId          MessageGroupId, for a FIFO results queue
 * @param deduplicationId  MessageDeduplicationId, for a FIFO results queue
 * @param recordId         the id of the record the result is for, carried by the minimal error result
 *                         that replaces a result SQS refuses ({@link #refused(String)})
 */
public record ResultMessage(String body, Map<String, String> attributes, Optional<String> groupId,
        Optional<String> deduplicationId, Optional<String> recordId) {

    /** The status attribute of a minimal error result. */
    public static final String REFUSED_STATUS = "failed";

    public ResultMessage {
        body = SqsText.valid(Objects.requireNonNull(body, "body"));
        var valid = new HashMap<String, String>();
        attributes.forEach((name, value) -> valid.put(SqsText.valid(name), SqsText.valid(value)));
        attributes = Map.copyOf(valid);
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(deduplicationId, "deduplicationId");
        Objects.requireNonNull(recordId, "recordId");
    }

    public ResultMessage(String body, Map<String, String> attributes, Optional<String> groupId,
            Optional<String> deduplicationId) {
        this(body, attributes, groupId, deduplicationId, Optional.empty());
    }

    /**
     * The minimal error result sent once in place of this one when SQS refuses it as the sender's fault:
     * SQS-valid, a few hundred bytes, in the same group with the same deduplication id, so it cannot be
     * refused for its content or size and keeps the group's order.
     */
    public ResultMessage refused(String reason) {
        return new ResultMessage(RefusedResult.body(recordId, reason), Map.of("status", REFUSED_STATUS), groupId,
                deduplicationId, recordId);
    }

    /**
     * The size SQS counts against its message and batch limits: the body plus each attribute's name,
     * data type ("String") and value, in UTF-8 bytes.
     */
    public int sizeInBytes() {
        int size = utf8Length(body);
        for (Map.Entry<String, String> attribute : attributes.entrySet()) {
            size += utf8Length(attribute.getKey()) + "String".length() + utf8Length(attribute.getValue());
        }
        return size;
    }

    static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
