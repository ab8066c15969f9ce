package dev.fanout.work;

import java.io.IOException;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
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
 * <p>
 * An item's text is read strictly, and the same way whichever entry point it came through (an SQS body, an
 * element of an HTTP request's {@code items}, a stream record's data): a duplicate key at any depth (the
 * payload's too) or anything after the JSON value makes it malformed, because an item whose meaning depends on
 * which duplicate a parser keeps means different things to different readers.
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
     * An item's text, read: what it means, and its JSON.
     *
     * @param item what the text means (malformed if it is not strict JSON)
     * @param json the text's JSON; null if it is not strict JSON
     */
    public record Read(ParsedItem item, JsonNode json) {
    }

    /**
     * @param json          the item's JSON text
     * @param fallbackId    the id when the JSON names none
     * @param sourceGroup   the group imposed by the source (SQS FIFO MessageGroupId); wins over the JSON's
     */
    public ParsedItem parse(String json, String fallbackId, Optional<String> sourceGroup) {
        return readText(json, fallbackId, sourceGroup).item();
    }

    /** {@link #parse}, with the JSON read kept (what HTTP's queued mode sends on). */
    public Read readText(String json, String fallbackId, Optional<String> sourceGroup) {
        if (json == null || json.isBlank()) {
            return new Read(new ParsedItem.Malformed(fallbackId, sourceGroup, "body is empty"), null);
        }
        JsonNode node;
        try (JsonParser parser = mapper.getFactory().createParser(json)) {
            parser.enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION.mappedFeature());
            node = mapper.readTree(parser);
            if (parser.nextToken() != null) {
                return new Read(new ParsedItem.Malformed(fallbackId, sourceGroup, "item goes on after its JSON value, at "
                        + where(parser.currentTokenLocation())), null);
            }
        } catch (JsonParseException e) {
            return new Read(new ParsedItem.Malformed(fallbackId, sourceGroup, NOT_JSON + e.getOriginalMessage() + " at "
                    + where(e.getLocation())), null);
        } catch (JsonProcessingException e) {
            return new Read(new ParsedItem.Malformed(fallbackId, sourceGroup, NOT_JSON + e.getOriginalMessage()), null);
        } catch (IOException e) {
            // a String source has no I/O to fail; kept for the parser's signature
            return new Read(new ParsedItem.Malformed(fallbackId, sourceGroup, NOT_JSON + e.getMessage()), null);
        }
        return new Read(read(node, fallbackId, sourceGroup), node);
    }

    /** The start of every reason for an item that is not strict JSON (syntax, duplicate key, reader limit). */
    private static final String NOT_JSON = "item is not valid JSON: ";

    private static String where(JsonLocation location) {
        return "line " + location.getLineNr() + ", column " + location.getColumnNr();
    }

    /**
     * Reads an item already parsed as JSON. Whatever parsed it decided about duplicate keys and trailing text: an
     * entry point that has the item's text reads it with {@link #parse} or {@link #readText}, which are strict.
     */
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
