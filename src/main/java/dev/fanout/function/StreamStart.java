package dev.fanout.function;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.StreamRecord;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.batch.RecordBatch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.ResultsSink;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.startup.EntryPointStart;
import dev.fanout.startup.InProcessQueue;
import dev.fanout.startup.Priming;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.ItemParser;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

/**
 * The stream entry points' start ({@code kinesis}, {@code dynamodb}): the processor built at init and the results
 * queue called once, as for {@code sqs} ({@link SqsStart#warmUpResults}); primed by one event of the entry point's
 * kind through its whole path (the event's JSON read with the application's bindings, the records read, a KPL
 * aggregate unpacked, DynamoDB attribute values converted, the engine in key order, the results through the
 * fan-in to a queue in process, the checkpoint), so that the first invocation finds it loaded.
 * <p>
 * No user function runs: the Kinesis items are the priming batch's built-in ones (a digest, a delay, an unknown
 * type), and the DynamoDB changes are items of a type no function has, rejected after their payload is built.
 */
public abstract class StreamStart implements EntryPointStart {

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

    private final String name;
    private final Supplier<StreamBatchProcessor> batches;
    private final Supplier<ResultsSink> sink;
    private final WorkerPool pool;
    private final ItemFunctions functions;
    private final ItemParser parser;
    private final ObjectMapper mapper;

    StreamStart(String name, Supplier<StreamBatchProcessor> batches, Supplier<ResultsSink> sink, WorkerPool pool,
            ItemFunctions functions, ItemParser parser, ObjectMapper mapper) {
        this.name = name;
        this.batches = batches;
        this.sink = sink;
        this.pool = pool;
        this.functions = functions;
        this.parser = parser;
        this.mapper = mapper;
    }

    /** The {@code kinesis} entry point's start. */
    @Singleton
    public static class Kinesis extends StreamStart {
        @Inject
        Kinesis(Instance<StreamBatchProcessor> batches, Instance<ResultsSink> sink, WorkerPool pool,
                ItemFunctions functions, ItemParser parser, ObjectMapper mapper) {
            super("kinesis", batches::get, sink::get, pool, functions, parser, mapper);
        }
    }

    /** The {@code dynamodb} entry point's start. */
    @Singleton
    public static class Dynamodb extends StreamStart {
        @Inject
        Dynamodb(Instance<StreamBatchProcessor> batches, Instance<ResultsSink> sink, WorkerPool pool,
                ItemFunctions functions, ItemParser parser, ObjectMapper mapper) {
            super("dynamodb", batches::get, sink::get, pool, functions, parser, mapper);
        }
    }

    /** A stream entry point's start on plain objects (the start's priming thread): it is never warmed up. */
    static StreamStart onPlainObjects(String name, WorkerPool pool, ItemFunctions functions, ItemParser parser,
            ObjectMapper mapper) {
        return new StreamStart(name, () -> null, () -> null, pool, functions, parser, mapper) {
        };
    }

    static boolean covers(String entryPoint) {
        return "kinesis".equals(entryPoint) || "dynamodb".equals(entryPoint);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void warmUp(boolean snapStart) {
        batches.get();
        SqsStart.warmUpResults(sink.get(), snapStart);
    }

    @Override
    public Priming prime() {
        var queue = new InProcessQueue();
        var results = new SqsResultsSink(queue, SqsStart.primingSinkSettings());
        var processor = new StreamBatchProcessor(new RecordBatch(pool, functions, parser, results, mapper,
                new RecordBatch.Settings(Duration.ZERO, false)), parser, Optional.of(NO_SUCH_TYPE));
        StreamBatchProcessor.Invocation invocation;
        int events;
        if ("kinesis".equals(name)) {
            events = SqsStart.readSample(mapper, KinesisEvent.class, SAMPLE_KINESIS_EVENT);
            invocation = processor.prime(kinesisEvent(), Deadline.after(Priming.TIME));
        } else {
            events = SqsStart.readSample(mapper, DynamodbEvent.class, SAMPLE_DYNAMODB_EVENT);
            invocation = processor.prime(dynamodbEvent(), Deadline.after(Priming.TIME));
        }
        return new Priming(events, invocation.summary().path("records").asInt(), queue.accepted());
    }

    /** The SQS priming's items, each on a key of its own but the first two, and a KPL aggregate. */
    static KinesisEvent kinesisEvent() {
        List<KinesisEvent.KinesisEventRecord> records = new ArrayList<>();
        List<byte[]> data = new ArrayList<>();
        Priming.ITEMS.forEach(item -> data.add(item.getBytes(StandardCharsets.UTF_8)));
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
}
