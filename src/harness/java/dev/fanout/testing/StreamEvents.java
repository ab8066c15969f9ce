package dev.fanout.testing;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.Module;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.function.StreamEventBindings;

/**
 * Kinesis and DynamoDB Streams events as Lambda delivers them: the fixtures in {@code events/}, and generated
 * events of the same shape, read into the Lambda events library's types with the ObjectMapper Quarkus's Lambda
 * runtime reads them with (AmazonLambdaMapperRecorder: unknown properties ignored, property names matched
 * without regard to case, dates as epoch seconds) and the application's customization
 * ({@link StreamEventBindings}).
 */
public final class StreamEvents {

    public static final String SHARD = "shardId-000000000006";
    public static final BigInteger FIRST_SEQUENCE = new BigInteger("49590338271490256608559692538361571095921575989136588898");
    public static final String STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/fanout-work";

    private static final ObjectMapper LAMBDA = lambdaMapper();
    private static final ObjectMapper PLAIN = new ObjectMapper();

    private StreamEvents() {
    }

    @SuppressWarnings("deprecation")
    private static ObjectMapper lambdaMapper() {
        ObjectMapper mapper = JsonMapper.builder().configure(MapperFeature.ACCEPT_CASE_INSENSITIVE_PROPERTIES, true)
                .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false).build();
        try {
            // package-private in Quarkus: epoch seconds (with a fraction) to java.util.Date, as Lambda's events have them
            var dates = Class.forName("io.quarkus.amazon.lambda.runtime.DateModule").getDeclaredConstructor();
            dates.setAccessible(true);
            mapper.registerModule((Module) dates.newInstance());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        return StreamEventBindings.register(mapper);
    }

    public static KinesisEvent kinesis(String json) {
        return read(json, KinesisEvent.class);
    }

    public static DynamodbEvent dynamodb(String json) {
        return read(json, DynamodbEvent.class);
    }

    private static <T> T read(String json, Class<T> type) {
        try {
            return LAMBDA.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** A record of a generated Kinesis event: its partition key and its data's text (base64-encoded in the event). */
    public record Put(String partitionKey, String data) {
    }

    /** The sequence number of record {@code i} of a generated event: the fixture's first, plus 1000 per record. */
    public static String sequenceNumber(int i) {
        return FIRST_SEQUENCE.add(BigInteger.valueOf(1000L * i)).toString();
    }

    /** A Kinesis event of one shard, in the fixture's shape, record i with sequence number {@link #sequenceNumber(int)}. */
    public static ObjectNode kinesisEvent(List<Put> puts) {
        ObjectNode event = PLAIN.createObjectNode();
        ArrayNode records = event.putArray("Records");
        for (int i = 0; i < puts.size(); i++) {
            String sequenceNumber = sequenceNumber(i);
            ObjectNode record = records.addObject();
            record.putObject("kinesis").put("kinesisSchemaVersion", "1.0").put("partitionKey", puts.get(i).partitionKey())
                    .put("sequenceNumber", sequenceNumber)
                    .put("data", Base64.getEncoder().encodeToString(puts.get(i).data().getBytes(StandardCharsets.UTF_8)))
                    .put("approximateArrivalTimestamp", 1545084650.987);
            record.put("eventSource", "aws:kinesis").put("eventVersion", "1.0").put("eventID", SHARD + ":" + sequenceNumber)
                    .put("eventName", "aws:kinesis:record")
                    .put("invokeIdentityArn", "arn:aws:iam::123456789012:role/fanout-stream-role")
                    .put("awsRegion", "us-east-1").put("eventSourceARN", STREAM_ARN);
        }
        return event;
    }

    public static String item(String id, String type, String payloadJson) {
        return "{\"id\":\"" + id + "\",\"type\":\"" + type + "\",\"payload\":" + payloadJson + "}";
    }
}
