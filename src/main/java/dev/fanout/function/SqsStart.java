package dev.fanout.function;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.batch.RecordBatch;
import dev.fanout.batch.SourceRecord;
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
 * The SQS entry point's start: its processor built at init and the results queue called once (not under
 * SnapStart); primed by reading an SQS event and running the priming batch through the engine and the fan-in
 * to a queue in process.
 */
@Singleton
public class SqsStart implements EntryPointStart {

    private static final Logger LOG = Logger.getLogger(SqsStart.class);

    // in the event's bean property names, which every mapper reads (Lambda's own casing needs its mapper's settings)
    static final String SAMPLE_EVENT = "{\"records\":[{\"messageId\":\"prime\",\"receiptHandle\":\"prime\","
            + "\"body\":\"{}\",\"attributes\":{\"ApproximateReceiveCount\":\"1\"},\"messageAttributes\":{},"
            + "\"md5OfBody\":\"99914b932bd37a50b983c5e7c90ae93b\",\"eventSource\":\"aws:sqs\","
            + "\"eventSourceArn\":\"arn:aws:sqs:us-east-1:123456789012:prime\",\"awsRegion\":\"us-east-1\"}]}";

    private final Supplier<SqsBatchProcessor> batches;
    private final Supplier<ResultsSink> sink;
    private final WorkerPool pool;
    private final ItemFunctions functions;
    private final ItemParser parser;
    private final ObjectMapper mapper;

    @Inject
    SqsStart(Instance<SqsBatchProcessor> batches, Instance<ResultsSink> sink, WorkerPool pool, ItemFunctions functions,
            ItemParser parser, ObjectMapper mapper) {
        // looked up when the entry point is sqs: another entry point never builds the results queue's client
        this(batches::get, sink::get, pool, functions, parser, mapper);
    }

    SqsStart(Supplier<SqsBatchProcessor> batches, Supplier<ResultsSink> sink, WorkerPool pool, ItemFunctions functions,
            ItemParser parser, ObjectMapper mapper) {
        this.batches = batches;
        this.sink = sink;
        this.pool = pool;
        this.functions = functions;
        this.parser = parser;
        this.mapper = mapper;
    }

    @Override
    public String name() {
        return "sqs";
    }

    @Override
    public void warmUp(boolean snapStart) {
        batches.get();
        warmUpResults(sink.get(), snapStart);
    }

    /** The results queue's warm-up call, for the entry points that send results (sqs, kinesis, dynamodb). */
    static void warmUpResults(ResultsSink sink, boolean snapStart) {
        if (snapStart) {
            // the connection and credentials a warm-up would make are dropped at restore anyway
            LOG.info("SnapStart: the results queue is first called after restore");
        } else if (sink instanceof SqsResultsSink sqs) {
            String answer = sqs.warmUp();
            if (answer.startsWith("not reachable")) {
                // the first invocation's fan-in tries again, within its own deadline
                LOG.warnf("results queue %s: %s", sqs.settings().queueUrl(), answer);
            } else {
                LOG.infof("results queue %s: %s", sqs.settings().queueUrl(), answer);
            }
        }
    }

    /** The results sink's settings in a priming run: one request at a time to the queue in process. */
    static SqsResultsSink.Settings primingSinkSettings() {
        return new SqsResultsSink.Settings(InProcessQueue.QUEUE_URL, SqsResultsSink.SQS_MAX_BYTES,
                SqsResultsSink.SQS_MAX_BYTES, 1, 1, Duration.ofMillis(1), Duration.ofMillis(1), Duration.ZERO);
    }

    @Override
    public Priming prime() {
        int events = readSample(mapper, SqsFunction.Event.class, SAMPLE_EVENT);
        List<SourceRecord> records = new ArrayList<>(Priming.ITEMS.size());
        for (int i = 0; i < Priming.ITEMS.size(); i++) {
            records.add(new SourceRecord("prime-" + i, Priming.ITEMS.get(i), Optional.empty(), 1, null, null));
        }
        // the results queue is AWS, and this runs before any invocation: the results go to a queue in process
        var queue = new InProcessQueue();
        var results = new SqsResultsSink(queue, primingSinkSettings());
        new RecordBatch(pool, functions, parser, results, mapper, new RecordBatch.Settings(Duration.ZERO, false))
                .run(records, false, Deadline.after(Priming.TIME), Optional.of(Priming.TRACE_ID));
        return new Priming(events, records.size(), queue.accepted());
    }

    /** Reads a sample event as the entry point's binding does: 1 if it was read, 0 (and a warning) if not. */
    static int readSample(ObjectMapper mapper, Class<?> type, String json) {
        try {
            return mapper.readerFor(type).readValue(json) == null ? 0 : 1;
        } catch (JsonProcessingException e) {
            // priming only saves time: the first event loads what this did not
            LOG.warnf("priming: the sample %s not read: %s", type.getSimpleName(), e.getOriginalMessage());
            return 0;
        }
    }
}
