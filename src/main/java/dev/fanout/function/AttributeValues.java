package dev.fanout.function;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

import com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * DynamoDB's attribute-value form ({@code {"S": "x"}}, {@code {"N": "1.5"}}, ...) as plain JSON, so that an item
 * type receives a record, not wrappers: S a string; N a JSON number with every digit kept (a BigDecimal, so
 * {@code 12345678901234567890.000000000000000001} stays exact); B a base64 string; SS, NS and BS arrays of
 * those; M an object; L an array; NULL null; BOOL a boolean. Map members are written in name order, so that an
 * item's keys have one canonical text (the group its records run in).
 */
final class AttributeValues {

    /** An attribute the converter cannot read, with the path to it ({@code NewImage.address.city}). */
    static final class UnreadableAttribute extends Exception {
        UnreadableAttribute(String message) {
            super(message, null, false, false);
        }
    }

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private AttributeValues() {
    }

    /** A map of attributes (an image, or an item's keys) as a JSON object, members in name order. */
    static ObjectNode object(Map<String, AttributeValue> attributes, String path) throws UnreadableAttribute {
        ObjectNode object = NODES.objectNode();
        for (Map.Entry<String, AttributeValue> attribute : new TreeMap<>(attributes).entrySet()) {
            object.set(attribute.getKey(), value(attribute.getValue(), path + "." + attribute.getKey()));
        }
        return object;
    }

    static JsonNode value(AttributeValue value, String path) throws UnreadableAttribute {
        if (value == null) {
            throw new UnreadableAttribute(path + " has no value");
        }
        if (value.getS() != null) {
            return NODES.textNode(value.getS());
        }
        if (value.getN() != null) {
            return number(value.getN(), path);
        }
        if (value.getB() != null) {
            return NODES.textNode(base64(value.getB()));
        }
        if (value.getSS() != null) {
            ArrayNode array = NODES.arrayNode();
            for (String s : value.getSS()) {
                array.add(s);
            }
            return array;
        }
        if (value.getNS() != null) {
            ArrayNode array = NODES.arrayNode();
            int i = 0;
            for (String n : value.getNS()) {
                array.add(number(n, path + "[" + i++ + "]"));
            }
            return array;
        }
        if (value.getBS() != null) {
            ArrayNode array = NODES.arrayNode();
            for (ByteBuffer b : value.getBS()) {
                array.add(base64(b));
            }
            return array;
        }
        if (value.getM() != null) {
            return object(value.getM(), path);
        }
        if (value.getL() != null) {
            return list(value.getL(), path);
        }
        if (value.getNULL() != null) {
            return NODES.nullNode();
        }
        if (value.getBOOL() != null) {
            return NODES.booleanNode(value.getBOOL());
        }
        throw new UnreadableAttribute(path + " has no type DynamoDB defines (S, N, B, SS, NS, BS, M, L, NULL or BOOL)");
    }

    private static ArrayNode list(Collection<AttributeValue> values, String path) throws UnreadableAttribute {
        ArrayNode array = NODES.arrayNode();
        int i = 0;
        for (AttributeValue element : values) {
            array.add(value(element, path + "[" + i++ + "]"));
        }
        return array;
    }

    /** Exact: a DecimalNode made here is not normalised (JsonNodeFactory's default would strip trailing zeros). */
    private static JsonNode number(String n, String path) throws UnreadableAttribute {
        try {
            return DecimalNode.valueOf(new BigDecimal(n));
        } catch (NumberFormatException e) {
            throw new UnreadableAttribute(path + " is N but '" + n + "' is not a number");
        }
    }

    private static String base64(ByteBuffer bytes) {
        ByteBuffer copy = bytes.duplicate();
        byte[] raw = new byte[copy.remaining()];
        copy.get(raw);
        return Base64.getEncoder().encodeToString(raw);
    }
}
