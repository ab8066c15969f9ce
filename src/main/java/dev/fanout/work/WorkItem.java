package dev.fanout.work;

import java.util.Objects;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One unit of work.
 *
 * @param id      the caller's id for the item (an SQS record's message id when the body names none)
 * @param type    names the handler that runs it
 * @param group   FIFO group: items of one group run one at a time, in order
 * @param payload the handler's input, any JSON value
 */
public record WorkItem(String id, String type, Optional<String> group, JsonNode payload) {

    public WorkItem {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(payload, "payload");
    }
}
