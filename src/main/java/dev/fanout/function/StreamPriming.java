package dev.fanout.function;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.StreamRecord;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.batch.RecordBatch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.ItemParser;

/**
 * The priming run of the stream entry points ({@code kinesis}, {@code dynamodb}), for SnapStart's snapshot and for
 * the start's priming thread ({@link SnapStartHooks#prime()}, {@link StartPriming}): one event of the entry point's
 * kind through its whole path (the event's JSON read with the application's bindings, the records read, a KPL
 * aggregate unpacked, DynamoDB attribute values converted, the engine in key order, the results through the
 * fan-in to a queue in process, the checkpoint), so that the first invocation finds it loaded.
 * <p>
 * No user function runs: the Kinesis items are the SQS priming's built-in ones (a digest, a delay, an unknown
 * type), and the DynamoDB changes are items of a type no function has, rejected after their payload is built.
 */
final class StreamPriming {

    /** The DynamoDB changes' item type in a priming run: no function can have this name. */
    static final String NO_SUCH_TYPE = "fanout priming: no function";

    /** A KPL aggregate of two user records ("x", "yz" on keys "a", "b"; not items, so rejected). */
    static final byte[] AGGREGATE = HexFormat.of().parseHex("f3899ac2" + "0a01610a01621a0508001a01781a0608011a02797a"
            + "6fe1bc1407aabc41e3e0c88f3f668baf");

    // in the events' bean property names, which every mapper reads (Lambda's own casing needs its mapper's settings)
    static final String SAMPLE_KINESIS_EVENT = "{\"records\":[{\"kinesis\":{\"partitionKey\":\"prime\","
            + "\"sequenceNumber\":\"1\",\"data\":\"e30=\"},\"eventID\":\"shardId-000000000000:1\","
            + "\"eventSource\":\"aws:kinesis\"}]}";
    static final String SAMPLE_DYNAMODB_EVENT = "{\"records\":[{\"eventID\":\"prime\",\"eventName\":\"INSERT\","
            + "\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{\"keys\":{\"pk\":{\"s\":\"prime\"}},"
            + "\"sequenceNumber\":\"1\"}}]}";

    private StreamPriming() {
    }

    static boolean covers(String entryPoint) {
        return "kinesis".equals(entryPoint) || "dynamodb".equals(entryPoint);
    }

    static SnapStartHooks.Priming prime(String entryPoint, WorkerPool pool, ItemFunctions handlers, ItemParser parser,
            ObjectMapper mapper, Duration limit) {
        var queue = new SnapStartHooks.InProcessQueue();
        var sink = new SqsResultsSink(queue, SqsResultsSink.Settings.defaults(StartPriming.QUEUE_URL));
        var processor = new StreamBatchProcessor(new RecordBatch(pool, handlers, parser, sink, mapper,
                new RecordBatch.Settings(Duration.ZERO, false)), parser, Optional.of(NO_SUCH_TYPE));
        StreamBatchProcessor.Invocation invocation;
        int events;
        if ("kinesis".equals(entryPoint)) {
            events = read(mapper, KinesisEvent.class, SAMPLE_KINESIS_EVENT);
            invocation = processor.prime(kinesisEvent(), Deadline.after(limit));
        } else {
            events = read(mapper, DynamodbEvent.class, SAMPLE_DYNAMODB_EVENT);
            invocation = processor.prime(dynamodbEvent(), Deadline.after(limit));
        }
        return new SnapStartHooks.Priming(events, invocation.summary().path("records").asInt(), queue.accepted());
    }

    /** The SQS priming's items, each on a key of its own but the first two, and a KPL aggregate. */
    static KinesisEvent kinesisEvent() {
        List<KinesisEvent.KinesisEventRecord> records = new ArrayList<>();
        List<byte[]> data = new ArrayList<>();
        SnapStartHooks.PRIMING_ITEMS.forEach(item -> data.add(item.getBytes(StandardCharsets.UTF_8)));
        data.add(AGGREGATE);
        for (int i = 0; i < data.size(); i++) {
            var kinesis = new KinesisEvent.Record();
            kinesis.setPartitionKey("prime-" + Math.max(1, i));
            kinesis.setSequenceNumber(Integer.toString(i + 1));
            kinesis.setData(ByteBuffer.wrap(data.get(i)));
            var record = new KinesisEvent.KinesisEventRecord();
            record.setKinesis(kinesis);
            record.setEventID("shardId-000000000000:" + (i + 1));
            record.setEventSource("aws:kinesis");
            records.add(record);
        }
        var event = new KinesisEvent();
        event.setRecords(records);
        return event;
    }

    /** An INSERT and a MODIFY of one item, and a TTL delete of another, with attributes of every type. */
    static DynamodbEvent dynamodbEvent() {
        Map<String, AttributeValue> image = Map.of("pk", new AttributeValue().withS("prime"),
                "n", new AttributeValue().withN("1.5"), "b", new AttributeValue().withB(ByteBuffer.wrap(new byte[] { 1 })),
                "ss", new AttributeValue().withSS("a"), "ns", new AttributeValue().withNS("2"),
                "bs", new AttributeValue().withBS(ByteBuffer.wrap(new byte[] { 2 })),
                "m", new AttributeValue().withM(Map.of("k", new AttributeValue().withBOOL(true))),
                "l", new AttributeValue().withL(new AttributeValue().withNULL(true)));
        List<DynamodbEvent.DynamodbStreamRecord> records = new ArrayList<>();
        String[] names = { "INSERT", "MODIFY", "REMOVE" };
        for (int i = 0; i < names.length; i++) {
            var change = new StreamRecord();
            change.setKeys(Map.of("pk", new AttributeValue().withS(i < 2 ? "prime" : "prime-expired")));
            change.setSequenceNumber(Integer.toString(i + 1));
            if (i < 2) {
                change.setNewImage(image);
            }
            if (i > 0) {
                change.setOldImage(image);
            }
            var record = new DynamodbEvent.DynamodbStreamRecord();
            record.setEventID("prime-" + i);
            record.setEventName(names[i]);
            record.setEventSource("aws:dynamodb");
            record.setDynamodb(change);
            if (i == 2) {
                record.setUserIdentity(new com.amazonaws.services.lambda.runtime.events.models.dynamodb.Identity()
                        .withType("Service").withPrincipalId(DynamodbRecords.TTL_PRINCIPAL));
            }
            records.add(record);
        }
        var event = new DynamodbEvent();
        event.setRecords(records);
        return event;
    }

    private static int read(ObjectMapper mapper, Class<?> type, String json) {
        try {
            return mapper.readerFor(type).readValue(json) == null ? 0 : 1;
        } catch (JsonProcessingException e) {
            // priming only saves time: the first event loads what this did not
            return 0;
        }
    }
}
