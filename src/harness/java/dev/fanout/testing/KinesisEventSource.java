package dev.fanout.testing;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * A Kinesis stream and its Lambda event source mapping ({@link StreamEventSource}): a record's shard by the MD5 of
 * its partition key, events in the shape of {@code events/kinesis-stream.json}, a {@code KinesisBatchInfo} on the
 * on-failure destination.
 */
public final class KinesisEventSource extends StreamEventSource {

    public KinesisEventSource(String streamArn, int shardCount, int batchSize, int maxRetryAttempts, boolean bisect,
            SqsClient destinationClient, String destinationQueueUrl) {
        super(streamArn, "shardId-%012d", new BigInteger("49590338271490256608559692538361571095921575989136588898"),
                "KinesisBatchInfo", shardCount, batchSize, maxRetryAttempts, bisect, destinationClient, destinationQueueUrl);
    }

    /** Puts a record (PutRecord): its shard by its partition key's hash, the next sequence number. */
    public Entry put(String partitionKey, String data) {
        return add(partitionKey, data);
    }

    /** The event Lambda sends for these records, in the shape of events/kinesis-stream.json. */
    @Override
    String event(List<Entry> records) {
        ObjectNode event = MAPPER.createObjectNode();
        ArrayNode array = event.putArray("Records");
        for (Entry entry : records) {
            ObjectNode record = array.addObject();
            record.putObject("kinesis").put("kinesisSchemaVersion", "1.0").put("partitionKey", entry.partitionKey())
                    .put("sequenceNumber", entry.sequenceNumber())
                    .put("data", Base64.getEncoder().encodeToString(entry.data().getBytes(StandardCharsets.UTF_8)))
                    .put("approximateArrivalTimestamp", 1545084650.987);
            record.put("eventSource", "aws:kinesis").put("eventVersion", "1.0")
                    .put("eventID", entry.shardId() + ":" + entry.sequenceNumber()).put("eventName", "aws:kinesis:record")
                    .put("invokeIdentityArn", "arn:aws:iam::123456789012:role/fanout-stream-role")
                    .put("awsRegion", "us-east-1").put("eventSourceARN", streamArn);
        }
        return event.toString();
    }

    /** Reads a destination message's description of the records it stands for. */
    public static JsonNode batchInfo(String body) {
        return batchInfo(body, "KinesisBatchInfo");
    }
}
