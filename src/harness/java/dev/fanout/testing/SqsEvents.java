package dev.fanout.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * SQS events as Lambda delivers them: fixtures in AWS's documented shape, read with AWS's own event
 * serializer (the one the Java runtime uses), and generated events of the same shape.
 */
public final class SqsEvents {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private SqsEvents() {
    }

    /** A sample event from the project's {@code events/} folder (also usable with {@code sam local invoke}). */
    public static String fixture(String name) {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("events", name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static SQSEvent parse(String json) {
        return LambdaEventSerializers.serializerFor(SQSEvent.class, SqsEvents.class.getClassLoader())
                .fromJson(new java.io.ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
    }

    /** A standard-queue event with one record per body; message ids are "m-0", "m-1", ... */
    public static String standard(List<String> bodies) {
        return event(bodies, null, "arn:aws:sqs:us-east-1:123456789012:fanout-work");
    }

    /** A FIFO event: {@code groups[i]} is record i's MessageGroupId. */
    public static String fifo(List<String> bodies, List<String> groups) {
        return event(bodies, groups, "arn:aws:sqs:us-east-1:123456789012:fanout-work.fifo");
    }

    private static String event(List<String> bodies, List<String> groups, String arn) {
        ObjectNode event = MAPPER.createObjectNode();
        ArrayNode records = event.putArray("Records");
        for (int i = 0; i < bodies.size(); i++) {
            var attributes = new java.util.LinkedHashMap<String, String>();
            attributes.put("ApproximateReceiveCount", "1");
            attributes.put("SentTimestamp", "1764360000000");
            attributes.put("SenderId", "AIDAIENQZJOLO23YVJ4VO");
            attributes.put("ApproximateFirstReceiveTimestamp", "1764360000001");
            if (groups != null) {
                attributes.put("SequenceNumber", "1884949646046769" + (6128 + i));
                attributes.put("MessageGroupId", groups.get(i));
                attributes.put("MessageDeduplicationId", "m-" + i);
            }
            addRecord(records, "m-" + i, "AQEB" + UUID.nameUUIDFromBytes(("r" + i).getBytes()), bodies.get(i),
                    attributes, "e4e68fb7bd0e697a0ae8f1bb342846b3", arn);
        }
        return event.toString();
    }

    /** Appends one record in the shape Lambda's event source mapping delivers. */
    public static void addRecord(ArrayNode records, String messageId, String receiptHandle, String body,
            java.util.Map<String, String> attributes, String md5OfBody, String queueArn) {
        addRecord(records, messageId, receiptHandle, body, attributes, java.util.Map.of(), md5OfBody, queueArn);
    }

    /** The same, with string message attributes, in the event's shape ({"stringValue": ..., "dataType": "String"}). */
    public static void addRecord(ArrayNode records, String messageId, String receiptHandle, String body,
            java.util.Map<String, String> attributes, java.util.Map<String, String> messageAttributes, String md5OfBody,
            String queueArn) {
        ObjectNode record = records.addObject();
        record.put("messageId", messageId);
        record.put("receiptHandle", receiptHandle);
        record.put("body", body);
        ObjectNode attributeNode = record.putObject("attributes");
        attributes.forEach(attributeNode::put);
        ObjectNode messageAttributeNode = record.putObject("messageAttributes");
        messageAttributes.forEach((name, value) -> messageAttributeNode.putObject(name).put("stringValue", value)
                .<ObjectNode>set("stringListValues", MAPPER.createArrayNode())
                .<ObjectNode>set("binaryListValues", MAPPER.createArrayNode()).put("dataType", "String"));
        record.put("md5OfBody", md5OfBody);
        record.put("eventSource", "aws:sqs");
        record.put("eventSourceARN", queueArn);
        record.put("awsRegion", ElasticMq.REGION);
    }

    public static String item(String type, String payloadJson) {
        return "{\"type\":\"" + type + "\",\"payload\":" + payloadJson + "}";
    }
}
