package dev.fanout.function.idempotency;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

import dev.fanout.work.IdempotencyStore;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;

/**
 * The design issue 25 asked to measure against per-item conditional claims (docs/idempotency.md, "Batched reads
 * against per-item claims"): before the batch runs, {@code BatchGetItem} reads every item's record, 100 keys a
 * request, at most {@code parallel} requests at once; an item whose record is a live completed one is then served
 * from that read without a request of its own, and every other item claims as {@link DynamoDbIdempotencyStore} does.
 * A read-ahead that finds a running or expired record, or misses one (unprocessed keys, an eventually consistent
 * read), only costs the claim that follows: the claim's condition decides, so the design is as correct as the
 * per-item one. It lives in the bench only: the measurement kept the per-item claims (see the docs).
 */
public final class BatchReadAhead implements IdempotencyStore {

    static final int KEYS_PER_REQUEST = 100;

    private final DynamoDbIdempotencyStore claims;
    private final Map<String, Record> found;

    private BatchReadAhead(DynamoDbIdempotencyStore claims, Map<String, Record> found) {
        this.claims = claims;
        this.found = found;
    }

    /** Reads the records of {@code keys} (at most {@code parallel} requests at once), then claims through them. */
    public static BatchReadAhead read(DynamoDbClient client, String table, List<String> keys, int parallel,
            Duration timeout) throws Exception {
        Map<String, Record> found = new ConcurrentHashMap<>();
        Semaphore permits = new Semaphore(Math.max(1, parallel));
        List<Future<?>> reads = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int from = 0; from < keys.size(); from += KEYS_PER_REQUEST) {
                List<String> chunk = keys.subList(from, Math.min(keys.size(), from + KEYS_PER_REQUEST));
                permits.acquire();
                reads.add(threads.submit(() -> {
                    try {
                        var response = client.batchGetItem(b -> b.requestItems(Map.of(table, KeysAndAttributes.builder()
                                .keys(chunk.stream().map(k -> Map.of("id", AttributeValue.fromS(k))).toList())
                                .consistentRead(false).build()))
                                .overrideConfiguration(o -> o.apiCallTimeout(timeout).apiCallAttemptTimeout(timeout)));
                        // unprocessed keys are not retried: their items claim as usual
                        for (Map<String, AttributeValue> item : response.responses().getOrDefault(table, List.of())) {
                            String key = item.get("id").s();
                            try {
                                found.put(key, DynamoDbIdempotencyStore.record(key, item));
                            } catch (CorruptRecord corrupt) {
                                // left out: its item's claim reads it again and rejects the item with the reason
                            }
                        }
                    } finally {
                        permits.release();
                    }
                    return null;
                }));
            }
            for (Future<?> read : reads) {
                read.get();
            }
        }
        return new BatchReadAhead(new DynamoDbIdempotencyStore(client, table), found);
    }

    @Override
    public Claim claim(InProgress claim, Instant now, Duration timeout) {
        Record record = found.get(claim.key());
        if (record instanceof Record.Done done && done.completed().expiresAt().getEpochSecond() >= now.getEpochSecond()) {
            return new Claim.Held(record); // the claim's condition would refuse it: the same answer, no request
        }
        return claims.claim(claim, now, timeout);
    }

    @Override
    public boolean complete(String key, String token, Completed record, Duration timeout) {
        return claims.complete(key, token, record, timeout);
    }

    @Override
    public void release(String key, String token, Duration timeout) {
        claims.release(key, token, timeout);
    }
}
