package dev.fanout.function;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.BiFunction;

import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.Metric;
import dev.fanout.batch.RecordBatch;
import dev.fanout.batch.SourceRecord;
import dev.fanout.batch.StreamCheckpoint;
import dev.fanout.engine.Deadline;
import dev.fanout.work.ItemParser;
import dev.fanout.work.ParsedItem;

/**
 * The stream events' side of a {@link RecordBatch} (Kinesis Data Streams, DynamoDB Streams): their records in,
 * in order per key (partition key, item keys) and keys in parallel; Lambda's checkpoint out. A record is done
 * when its outcome is final and its result is confirmed on the results queue, as for SQS; a key stops at its
 * first record that is not; the response names the lowest sequence number among the records not done
 * ({@link StreamCheckpoint}), and Lambda delivers that record and every later one of the shard again.
 */
public final class StreamBatchProcessor {

    /** The response and the figures of one invocation (the figures are also logged). */
    public record Invocation(StreamsEventResponse response, ObjectNode summary) {
    }

    private final RecordBatch batch;
    private final ItemParser parser;
    private final Optional<String> dynamodbType;

    /** @param dynamodbType the item type of DynamoDB stream records ({@code fanout.streams.dynamodb-type}) */
    public StreamBatchProcessor(RecordBatch batch, ItemParser parser, Optional<String> dynamodbType) {
        this.batch = batch;
        this.parser = parser;
        this.dynamodbType = dynamodbType;
    }

    public Invocation kinesis(KinesisEvent event, Deadline deadline, Optional<String> traceId) {
        List<KinesisEvent.KinesisEventRecord> records = event == null || event.getRecords() == null ? List.of()
                : event.getRecords();
        return process("kinesis", records, (record, i) -> KinesisRecords.read(record, i, parser), deadline, traceId,
                true);
    }

    public Invocation dynamodb(DynamodbEvent event, Deadline deadline, Optional<String> traceId) {
        List<DynamodbEvent.DynamodbStreamRecord> records = event == null || event.getRecords() == null ? List.of()
                : event.getRecords();
        return process("dynamodb", records, (record, i) -> List.of(DynamodbRecords.read(record, i, dynamodbType)), deadline,
                traceId, true);
    }

    /** A priming run ({@link StreamStart}): the same path, no invocation, so its figures are not logged. */
    Invocation prime(KinesisEvent event, Deadline deadline) {
        return process("kinesis", event.getRecords(), (record, i) -> KinesisRecords.read(record, i, parser), deadline,
                Optional.empty(), false);
    }

    Invocation prime(DynamodbEvent event, Deadline deadline) {
        return process("dynamodb", event.getRecords(), (record, i) -> List.of(DynamodbRecords.read(record, i,
                dynamodbType)), deadline, Optional.empty(), false);
    }

    private <R> Invocation process(String entryPoint, List<R> records,
            BiFunction<R, Integer, List<StreamEntry>> read, Deadline deadline, Optional<String> traceId, boolean log) {
        int n = records.size();
        List<StreamEntry> entries = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            entries.addAll(read.apply(records.get(i), i)); // a KPL aggregate is several entries
        }
        List<SourceRecord> sources = new ArrayList<>(entries.size());
        List<ParsedItem> items = new ArrayList<>(entries.size());
        List<String> sequenceNumbers = new ArrayList<>(entries.size());
        for (StreamEntry entry : entries) {
            sources.add(entry.source());
            items.add(entry.item());
            sequenceNumbers.add(entry.sequenceNumber());
        }
        RecordBatch.Answer answer = batch.runOrdered("fanout." + entryPoint, sources, items, deadline, traceId);
        StreamCheckpoint.Checkpoint checkpoint = StreamCheckpoint.of(answer.acknowledgedArray(), sequenceNumbers);
        ObjectNode summary = answer.summary();
        List<StreamsEventResponse.BatchItemFailure> failures = new ArrayList<>(1);
        int notDone = 0;
        for (boolean done : answer.acknowledged()) {
            notDone += done ? 0 : 1;
        }
        switch (checkpoint) {
            case StreamCheckpoint.Done done -> {
            }
            case StreamCheckpoint.At at -> {
                failures.add(new StreamsEventResponse.BatchItemFailure(at.sequenceNumber()));
                summary.put("checkpoint", at.sequenceNumber());
                firstNotDoneSubSequence(entries, answer.acknowledgedArray(), at.sequenceNumber())
                        .ifPresent(sub -> summary.put("checkpointSubSequence", sub));
            }
            case StreamCheckpoint.WholeBatch whole -> {
                // Lambda reads an empty item identifier as the failure of the whole batch
                failures.add(new StreamsEventResponse.BatchItemFailure(""));
                summary.put("wholeBatchHandedBack", whole.reason());
            }
        }
        if (entries.size() != n) {
            summary.put("kinesisRecords", n); // "records" counts the user records of KPL aggregates
        }
        summary.put("notDone", notDone).put(Metric.BATCH_ITEM_FAILURES.key(), failures.size())
                .put(Metric.TIME_LEFT_MS.key(), deadline.remaining().toMillis());
        if (log) {
            LimitMetrics.add(summary, batch.functions().serviceLimits());
            InvocationMetrics.log(summary, entryPoint);
        }
        return new Invocation(new StreamsEventResponse(failures), summary);
    }

    /**
     * The first user record not done of the KPL aggregate Lambda resumes at: Lambda replays the whole aggregate,
     * and the log says where in it the work stopped.
     */
    private static OptionalInt firstNotDoneSubSequence(List<StreamEntry> entries, boolean[] done, String sequenceNumber) {
        for (int i = 0; i < entries.size(); i++) {
            StreamEntry entry = entries.get(i);
            if (!done[i] && entry.subSequence().isPresent() && sequenceNumber.equals(entry.sequenceNumber())) {
                return entry.subSequence();
            }
        }
        return OptionalInt.empty();
    }
}
