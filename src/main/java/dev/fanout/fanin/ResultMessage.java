package dev.fanout.fanin;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One message for the results queue.
 *
 * @param body             the JSON result
 * @param attributes       string message attributes (the status, so consumers can filter on it)
 * @param groupId          MessageGroupId, for a FIFO results queue
 * @param deduplicationId  MessageDeduplicationId, for a FIFO results queue
 */
public record ResultMessage(String body, Map<String, String> attributes, Optional<String> groupId,
        Optional<String> deduplicationId) {

    public ResultMessage {
        Objects.requireNonNull(body, "body");
        attributes = Map.copyOf(attributes);
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(deduplicationId, "deduplicationId");
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
