package dev.fanout.testing;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * A stream (Kinesis Data Streams, DynamoDB Streams) and its Lambda event source mapping, as Lambda documents them,
 * for tests: shards with increasing sequence numbers (a record's shard by the MD5 of its key, as Kinesis maps
 * partition keys to hash ranges of equal size and DynamoDB keeps an item's changes in one shard), batches of up to {@code batchSize} records per shard in order, and the answer read as
 * Lambda reads it with {@code ReportBatchItemFailures}:
 * <ul>
 * <li>no batch item failure: the shard's checkpoint moves past the batch;</li>
 * <li>a sequence number of the batch: the checkpoint moves to it, and the next batch starts there (a retry);</li>
 * <li>an empty identifier, one not in the batch, or an invocation error: the whole batch is retried; on an error,
 * with bisecting on, the batch is split in two halves first (splitting does not count as a retry);</li>
 * <li>after {@code maxRetryAttempts} retries of a batch, a description of what is left of it (shard, first and last
 * sequence number, size) goes to the on-failure destination queue, and the shard moves on.</li>
 * </ul>
 * One shard's batches run one after the other; shards run one after the other too (ParallelizationFactor 1, one
 * poller): the order within a shard is what is checked.
 */
public abstract class StreamEventSource {

    /**
     * A record put on the stream: for Kinesis its partition key and data's text; for DynamoDB the canonical JSON
     * of its keys and the record's own JSON (without its sequence number and id, which the mapping gives it).
     */
    public record Entry(String shardId, String sequenceNumber, String partitionKey, String data) {
    }

    /** What one invocation answered: a batch item failure's identifiers, or an invocation error. */
    public record Answer(List<String> batchItemFailures, boolean error) {
        public static Answer failed() {
            return new Answer(List.of(), true);
        }
    }

    /** What the mapping did, counted. */
    public record Counts(int invocations, int replays, int bisects, int sentToDestination, int recordsToDestination) {
    }

    static final ObjectMapper MAPPER = new ObjectMapper();

    final String streamArn;
    private final String shardIdFormat;
    private final String batchInfoName;
    private final int batchSize;
    private final int maxRetryAttempts;
    private final boolean bisect;
    private final SqsClient destinationClient;
    private final String destinationQueueUrl;
    private final List<List<Entry>> shards = new ArrayList<>();
    private BigInteger nextSequence;
    private int invocations;
    private int replays;
    private int bisects;
    private int sentToDestination;
    private int recordsToDestination;

    /**
     * @param shardIdFormat  a shard's id from its index ({@link String#format})
     * @param firstSequence  the sequence number before the first record's
     * @param batchInfoName  the on-failure record's member that describes the batch ({@code KinesisBatchInfo},
     *                       {@code DDBStreamBatchInfo})
     */
    StreamEventSource(String streamArn, String shardIdFormat, BigInteger firstSequence, String batchInfoName,
            int shardCount, int batchSize, int maxRetryAttempts, boolean bisect, SqsClient destinationClient,
            String destinationQueueUrl) {
        this.streamArn = streamArn;
        this.shardIdFormat = shardIdFormat;
        this.nextSequence = firstSequence;
        this.batchInfoName = batchInfoName;
        this.batchSize = batchSize;
        this.maxRetryAttempts = maxRetryAttempts;
        this.bisect = bisect;
        this.destinationClient = destinationClient;
        this.destinationQueueUrl = destinationQueueUrl;
        for (int i = 0; i < shardCount; i++) {
            shards.add(new ArrayList<>());
        }
    }

    /** Adds a record to the stream: its shard by its key's hash, the next sequence number. */
    final Entry add(String partitionKey, String data) {
        int shard = shardOf(partitionKey);
        nextSequence = nextSequence.add(BigInteger.valueOf(1000));
        Entry entry = new Entry(String.format(shardIdFormat, shard), nextSequence.toString(), partitionKey, data);
        shards.get(shard).add(entry);
        return entry;
    }

    private int shardOf(String partitionKey) {
        try {
            byte[] md5 = MessageDigest.getInstance("MD5").digest(partitionKey.getBytes(StandardCharsets.UTF_8));
            return new BigInteger(1, md5).mod(BigInteger.valueOf(shards.size())).intValue();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Delivers every record to {@code function} (an event's JSON in, its answer out) until each shard's
     * checkpoint is at its end or past it, and returns what the mapping did.
     */
    public Counts drain(Function<String, Answer> function) {
        for (List<Entry> shard : shards) {
            drainShard(shard, function);
        }
        return new Counts(invocations, replays, bisects, sentToDestination, recordsToDestination);
    }

    /** A part of a shard still to deliver: records [from, to) and how often it has been retried. */
    private record Pending(int from, int to, int retries) {
    }

    private void drainShard(List<Entry> shard, Function<String, Answer> function) {
        int position = 0;
        Deque<Pending> pending = new ArrayDeque<>();
        while (position < shard.size() || !pending.isEmpty()) {
            Pending batch = pending.isEmpty() ? new Pending(position, Math.min(shard.size(), position + batchSize), 0)
                    : pending.pop();
            List<Entry> records = shard.subList(batch.from(), batch.to());
            invocations++;
            Answer answer = function.apply(event(records));
            int checkpoint = checkpoint(records, answer);
            if (checkpoint == records.size()) {
                position = Math.max(position, batch.to());
                continue;
            }
            if (answer.error() && bisect && records.size() > 1) {
                bisects++;
                int middle = batch.from() + records.size() / 2;
                pending.push(new Pending(middle, batch.to(), batch.retries()));
                pending.push(new Pending(batch.from(), middle, batch.retries()));
                continue;
            }
            Pending retry = new Pending(batch.from() + checkpoint, batch.to(), batch.retries() + 1);
            if (retry.retries() > maxRetryAttempts) {
                toDestination(shard.subList(retry.from(), retry.to()));
                position = Math.max(position, batch.to());
                continue;
            }
            replays++;
            pending.push(retry);
        }
    }

    /** How many records of the batch are done: all of them, up to the reported one, or none. */
    private static int checkpoint(List<Entry> records, Answer answer) {
        if (answer.error()) {
            return 0;
        }
        if (answer.batchItemFailures().isEmpty()) {
            return records.size();
        }
        // Lambda resumes at the lowest reported sequence number; an empty or unknown one fails the whole batch
        int lowest = records.size();
        for (String identifier : answer.batchItemFailures()) {
            int at = -1;
            for (int i = 0; i < records.size(); i++) {
                if (records.get(i).sequenceNumber().equals(identifier)) {
                    at = i;
                }
            }
            if (at < 0) {
                return 0;
            }
            lowest = Math.min(lowest, at);
        }
        return lowest;
    }

    private void toDestination(List<Entry> records) {
        sentToDestination++;
        recordsToDestination += records.size();
        ObjectNode info = MAPPER.createObjectNode();
        info.putObject("requestContext").put("condition", "RetryAttemptsExhausted");
        info.putObject(batchInfoName).put("shardId", records.get(0).shardId())
                .put("startSequenceNumber", records.get(0).sequenceNumber())
                .put("endSequenceNumber", records.get(records.size() - 1).sequenceNumber())
                .put("batchSize", records.size()).put("streamArn", streamArn);
        destinationClient.sendMessage(r -> r.queueUrl(destinationQueueUrl).messageBody(info.toString()));
    }

    /** The event Lambda sends for these records of one shard. */
    abstract String event(List<Entry> records);

    /** Reads a destination message's description of the records it stands for (shard, first and last sequence number). */
    static JsonNode batchInfo(String body, String batchInfoName) {
        try {
            return MAPPER.readTree(body).get(batchInfoName);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }
}
