package dev.fanout.testing;

import java.math.BigInteger;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * A DynamoDB table's stream and its Lambda event source mapping ({@link StreamEventSource}: shards, batches per
 * shard in order, replay from the reported sequence number, bisect on an invocation error, the on-failure
 * destination after the retry limit), for tests. A change's shard is chosen by its item's keys, so that the
 * changes of one item stay in one shard in order, as DynamoDB Streams keeps them. Each change gets the next
 * sequence number and a unique {@code eventID}, the same on every replay; the events have the shape of
 * {@code events/dynamodb-stream.json}, and a batch whose retries ran out is described on the destination by a
 * {@code DDBStreamBatchInfo}.
 */
public final class DynamodbEventSource extends StreamEventSource {

    public static final String STREAM_ARN =
            "arn:aws:dynamodb:us-east-1:123456789012:table/fanout-items/stream/2026-12-01T00:00:00.000";

    public DynamodbEventSource(String streamArn, int shardCount, int batchSize, int maxRetryAttempts, boolean bisect,
            SqsClient destinationClient, String destinationQueueUrl) {
        super(streamArn, "shardId-00000001764360000000-%08x", new BigInteger("400000000000000499659"),
                "DDBStreamBatchInfo", shardCount, batchSize, maxRetryAttempts, bisect, destinationClient,
                destinationQueueUrl);
    }

    /**
     * Puts a change: a record in the shape of the fixture's (its {@code eventName}, {@code userIdentity} and its
     * {@code dynamodb} member: {@code Keys}, images, view type, in DynamoDB's attribute-value form). Its own
     * {@code eventID} and {@code SequenceNumber}, if any, are replaced by the stream's.
     */
    public Entry put(JsonNode record) {
        JsonNode keys = record.path("dynamodb").path("Keys");
        ObjectNode change = record.deepCopy();
        change.remove(List.of("eventID", "eventSourceARN"));
        if (change.get("dynamodb") instanceof ObjectNode dynamodb) {
            dynamodb.remove("SequenceNumber");
        }
        return add(keys.toString(), change.toString());
    }

    /** A change of the item with these keys ({@code {"pk": {"S": "order-1"}}}) and images (null: none). */
    public Entry put(String eventName, ObjectNode keys, ObjectNode newImage, ObjectNode oldImage) {
        ObjectNode record = MAPPER.createObjectNode().put("eventName", eventName);
        ObjectNode dynamodb = record.putObject("dynamodb").put("ApproximateCreationDateTime", 1764360000);
        dynamodb.set("Keys", keys);
        if (newImage != null) {
            dynamodb.set("NewImage", newImage);
        }
        if (oldImage != null) {
            dynamodb.set("OldImage", oldImage);
        }
        dynamodb.put("StreamViewType", "NEW_AND_OLD_IMAGES");
        return put(record);
    }

    @Override
    String event(List<Entry> records) {
        ObjectNode event = MAPPER.createObjectNode();
        ArrayNode array = event.putArray("Records");
        for (Entry entry : records) {
            ObjectNode change;
            try {
                change = (ObjectNode) MAPPER.readTree(entry.data());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            ObjectNode record = array.addObject();
            // eventID: unique per change and the same on every replay (the fixture's are 32 hex digits)
            record.put("eventID", eventId(entry));
            record.put("eventName", change.path("eventName").asText("MODIFY")).put("eventVersion", "1.1")
                    .put("eventSource", "aws:dynamodb").put("awsRegion", "us-east-1");
            ObjectNode dynamodb = record.putObject("dynamodb");
            change.path("dynamodb").properties().forEach(member -> dynamodb.set(member.getKey(), member.getValue()));
            dynamodb.put("SequenceNumber", entry.sequenceNumber());
            if (change.has("userIdentity")) {
                record.set("userIdentity", change.get("userIdentity"));
            }
            record.put("eventSourceARN", streamArn);
        }
        return event.toString();
    }

    /** Reads a destination message's description of the records it stands for. */
    public static JsonNode batchInfo(String body) {
        return batchInfo(body, "DDBStreamBatchInfo");
    }

    /** The eventID the mapping gives the change with this sequence number. */
    public static String eventId(Entry entry) {
        return String.format("%032x", new BigInteger(entry.sequenceNumber()));
    }
}
