package dev.fanout.work;

import java.util.Iterator;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;

/**
 * Reads one item from its JSON form:
 *
 * <pre>
 * {"id": "order-17", "type": "http", "group": "customer-4", "payload": {...}}
 * </pre>
 *
 * {@code type} falls back to the configured default type; {@code id} to the caller's id (an SQS message
 * id); {@code group} to the caller's group (an SQS MessageGroupId). Anything else is malformed, with a
 * reason that says what is wrong.
 */
public final class ItemParser {

    static final Set<String> FIELDS = Set.of("id", "type", "group", "payload");

    private final ObjectMapper mapper;
    private final Optional<String> defaultType;

    public ItemParser(ObjectMapper mapper, Optional<String> defaultType) {
        this.mapper = mapper;
        this.defaultType = defaultType;
    }

    /**
     * @param json          the item's JSON text
     * @param fallbackId    the id when the JSON names none
     * @param sourceGroup   the group imposed by the source (SQS FIFO MessageGroupId); wins over the JSON's
     */
    public ParsedItem parse(String json, String fallbackId, Optional<String> sourceGroup) {
        if (json == null || json.isBlank()) {
            return new ParsedItem.Malformed(fallbackId, sourceGroup, "body is empty");
        }
        JsonNode node;
        try {
            node = mapper.readTree(json);
        } catch (JsonParseException e) {
            return new ParsedItem.Malformed(fallbackId, sourceGroup, "body is not valid JSON: "
                    + e.getOriginalMessage() + " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr());
        } catch (JsonProcessingException e) {
            return new ParsedItem.Malformed(fallbackId, sourceGroup, "body is not valid JSON: " + e.getOriginalMessage());
        }
        return read(node, fallbackId, sourceGroup);
    }

    /** Reads an item already parsed as JSON (an element of an HTTP request's {@code items}). */
    public ParsedItem read(JsonNode node, String fallbackId, Optional<String> sourceGroup) {
        if (node == null || !node.isObject()) {
            return new ParsedItem.Malformed(fallbackId, sourceGroup,
                    "item must be a JSON object, was " + kind(node));
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext();) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                return new ParsedItem.Malformed(fallbackId, sourceGroup,
                        "unknown field '" + name + "' (an item has id, type, group and payload)");
            }
        }
        String id = fallbackId;
        JsonNode idNode = node.get("id");
        if (idNode != null && !idNode.isNull()) {
            if (!idNode.isTextual() || idNode.asText().isBlank()) {
                return new ParsedItem.Malformed(fallbackId, sourceGroup, "field 'id' must be a non-empty string");
            }
            id = idNode.asText();
        }
        Optional<String> group = sourceGroup;
        JsonNode groupNode = node.get("group");
        if (groupNode != null && !groupNode.isNull()) {
            if (!groupNode.isTextual() || !isGroupId(groupNode.asText())) {
                return new ParsedItem.Malformed(id, sourceGroup,
                        "field 'group' must be 1 to 128 letters, digits or punctuation (an SQS MessageGroupId)");
            }
            if (sourceGroup.isEmpty()) {
                group = Optional.of(groupNode.asText());
            }
        }
        JsonNode typeNode = node.get("type");
        String type;
        if (typeNode == null || typeNode.isNull()) {
            if (defaultType.isEmpty()) {
                return new ParsedItem.Malformed(id, group, "field 'type' is missing and no default type is configured");
            }
            type = defaultType.get();
        } else if (!typeNode.isTextual() || typeNode.asText().isBlank()) {
            return new ParsedItem.Malformed(id, group, "field 'type' must be a non-empty string");
        } else {
            type = typeNode.asText();
        }
        JsonNode payload = node.has("payload") ? node.get("payload") : NullNode.getInstance();
        return new ParsedItem.Valid(new WorkItem(id, type, group, payload));
    }

    /** What SQS accepts as a MessageGroupId: the group may become one on a FIFO results queue. */
    static boolean isGroupId(String group) {
        if (group.isEmpty() || group.length() > 128) {
            return false;
        }
        return group.chars().allMatch(c -> c > 0x20 && c < 0x7F);
    }

    private static String kind(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            return "nothing";
        }
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> node.getNodeType().name().toLowerCase();
        };
    }
}
