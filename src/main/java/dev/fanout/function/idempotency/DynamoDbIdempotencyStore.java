package dev.fanout.function.idempotency;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import dev.fanout.work.IdempotencyStore;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;

/**
 * The idempotency records in a DynamoDB table whose partition key is the string {@code id}. A claim is one
 * conditional {@code PutItem}; a completion one more, conditional on the claim's token; a release one
 * {@code DeleteItem}, conditional the same way. A claim that finds its key held gets the record that holds it with
 * the refusal ({@code ReturnValuesOnConditionCheckFailure=ALL_OLD}), so a redelivery costs one request; only a
 * server that does not return it (dynalite 4.0.0 unpatched) costs a second one, a strongly consistent
 * {@code GetItem}. Every call has the caller's time as its {@code apiCallTimeout}.
 * <p>
 * Attributes: {@code status} (IN_PROGRESS, COMPLETED), {@code token}, {@code payloadHash}, {@code inProgressUntil}
 * (epoch ms), {@code expiresAt} (epoch s: the table's TTL attribute, and compared by the condition itself, since
 * TTL deletes up to days late), and for a completed run {@code output} (JSON text, absent when too large),
 * {@code outputSha256}, {@code outputBytes}.
 */
public final class DynamoDbIdempotencyStore implements IdempotencyStore {

    static final String IN_PROGRESS = "IN_PROGRESS";
    static final String COMPLETED = "COMPLETED";

    private static final String FREE = "attribute_not_exists(#id) OR #expiresAt < :nowSeconds"
            + " OR (#status = :inProgress AND #inProgressUntil < :nowMillis)";
    private static final Map<String, String> FREE_NAMES = Map.of("#id", "id", "#expiresAt", "expiresAt",
            "#status", "status", "#inProgressUntil", "inProgressUntil");
    private static final String HELD_BY_TOKEN = "#token = :token";

    private final DynamoDbClient client;
    private final String table;

    public DynamoDbIdempotencyStore(DynamoDbClient client, String table) {
        this.client = Objects.requireNonNull(client, "client");
        this.table = Objects.requireNonNull(table, "table");
    }

    @Override
    public Claim claim(InProgress claim, Instant now, Duration timeout) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put("id", s(claim.key()));
        item.put("status", s(IN_PROGRESS));
        item.put("token", s(claim.token()));
        item.put("payloadHash", s(claim.payloadHash()));
        item.put("inProgressUntil", n(claim.inProgressUntil().toEpochMilli()));
        item.put("expiresAt", n(claim.expiresAt().getEpochSecond()));
        Map<String, AttributeValue> values = Map.of(":nowSeconds", n(now.getEpochSecond()),
                ":nowMillis", n(now.toEpochMilli()), ":inProgress", s(IN_PROGRESS));
        // the calls share the item's time: a fallback read gets what the refused write left of it
        long end = System.nanoTime() + timeout.toNanos();
        // a record deleted between the failed write and the fallback read: write once more
        for (int attempt = 0; attempt < 2; attempt++) {
            Duration left = left(end, claim.key());
            try {
                call("claim", () -> client.putItem(b -> b.tableName(table).item(item).conditionExpression(FREE)
                        .expressionAttributeNames(FREE_NAMES).expressionAttributeValues(values)
                        .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD)
                        .overrideConfiguration(timeout(left))));
                return new Claim.Claimed();
            } catch (ConditionalCheckFailedException held) {
                if (held.hasItem() && !held.item().isEmpty()) {
                    return new Claim.Held(record(claim.key(), held.item()));
                }
                // a server that does not return the record with the refusal (DynamoDB does): read it
                Duration rest = left(end, claim.key());
                GetItemResponse found = call("read", () -> client.getItem(b -> b.tableName(table)
                        .key(Map.of("id", s(claim.key()))).consistentRead(true)
                        .overrideConfiguration(timeout(rest))));
                if (found.hasItem() && !found.item().isEmpty()) {
                    return new Claim.Held(record(claim.key(), found.item()));
                }
            }
        }
        throw new Unavailable("idempotency record '" + claim.key() + "' changed twice while it was claimed", null);
    }

    @Override
    public boolean complete(String key, String token, Completed record, Duration timeout) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put("id", s(key));
        item.put("status", s(COMPLETED));
        item.put("token", s(token));
        item.put("payloadHash", s(record.payloadHash()));
        item.put("expiresAt", n(record.expiresAt().getEpochSecond()));
        record.output().ifPresent(output -> item.put("output", s(output)));
        item.put("outputSha256", s(record.outputSha256()));
        item.put("outputBytes", n(record.outputBytes()));
        long end = System.nanoTime() + timeout.toNanos();
        try {
            try {
                completion(item, token, timeout);
            } catch (DynamoDbException refused) {
                if (!tooLarge(refused) || !item.containsKey("output")) {
                    throw refused;
                }
                // the item is over DynamoDB's 400 KB though the output was under the store's bound: keep the digest
                item.remove("output");
                completion(item, token, left(end, key));
            }
            return true;
        } catch (ConditionalCheckFailedException takenOver) {
            return false;
        } catch (DynamoDbException e) {
            throw unavailable("completion", e);
        }
    }

    private void completion(Map<String, AttributeValue> item, String token, Duration timeout) {
        try {
            client.putItem(b -> b.tableName(table).item(item).conditionExpression(HELD_BY_TOKEN)
                    .expressionAttributeNames(Map.of("#token", "token"))
                    .expressionAttributeValues(Map.of(":token", s(token)))
                    .overrideConfiguration(timeout(timeout)));
        } catch (DynamoDbException e) {
            throw e;
        } catch (SdkException e) {
            throw unavailable("completion", e);
        }
    }

    /** DynamoDB's answer to an item over 400 KB: a ValidationException saying so. */
    static boolean tooLarge(DynamoDbException refused) {
        return refused.awsErrorDetails() != null && "ValidationException".equals(refused.awsErrorDetails().errorCode())
                && String.valueOf(refused.awsErrorDetails().errorMessage()).contains("Item size has exceeded");
    }

    @Override
    public void release(String key, String token, Duration timeout) {
        try {
            call("release", () -> client.deleteItem(b -> b.tableName(table).key(Map.of("id", s(key)))
                    .conditionExpression(HELD_BY_TOKEN).expressionAttributeNames(Map.of("#token", "token"))
                    .expressionAttributeValues(Map.of(":token", s(token)))
                    .overrideConfiguration(timeout(timeout))));
        } catch (ConditionalCheckFailedException takenOver) {
            // another run holds the key now: its record is not ours to delete
        }
    }

    /** The record as read; {@link CorruptRecord} naming what is wrong with it. */
    static Record record(String key, Map<String, AttributeValue> item) {
        String status = text(key, item, "status");
        String payloadHash = text(key, item, "payloadHash");
        return switch (status) {
            case IN_PROGRESS -> new Record.Running(payloadHash, Instant.ofEpochMilli(number(key, item, "inProgressUntil")));
            case COMPLETED -> new Record.Done(new Completed(payloadHash,
                    Optional.ofNullable(item.get("output")).map(AttributeValue::s), text(key, item, "outputSha256"),
                    number(key, item, "outputBytes"), Instant.ofEpochSecond(number(key, item, "expiresAt"))));
            default -> throw new CorruptRecord("record '" + key + "' has the status '" + status + "', neither "
                    + IN_PROGRESS + " nor " + COMPLETED);
        };
    }

    private static String text(String key, Map<String, AttributeValue> item, String name) {
        AttributeValue value = item.get(name);
        if (value == null || value.s() == null) {
            throw new CorruptRecord("record '" + key + "' has no string '" + name + "'");
        }
        return value.s();
    }

    private static long number(String key, Map<String, AttributeValue> item, String name) {
        AttributeValue value = item.get(name);
        try {
            return Long.parseLong(Objects.requireNonNull(value == null ? null : value.n()));
        } catch (NumberFormatException | NullPointerException e) {
            throw new CorruptRecord("record '" + key + "' has no integer '" + name + "'");
        }
    }

    private static Duration left(long endNanos, String key) {
        long left = endNanos - System.nanoTime();
        if (left <= 0) {
            throw new Unavailable("idempotency record '" + key + "': no time left for the store's next call: handed"
                    + " back, not run unguarded", null);
        }
        return Duration.ofNanos(left);
    }

    /**
     * Runs one request; every failure but a failed condition (throttling, a time-out, a store that cannot be
     * reached, a missing table) becomes {@link Unavailable}, so that the item is handed back.
     */
    private static <T> T call(String what, java.util.function.Supplier<T> request) {
        try {
            return request.get();
        } catch (ConditionalCheckFailedException conditional) {
            throw conditional;
        } catch (SdkException e) {
            throw unavailable(what, e);
        }
    }

    private static Unavailable unavailable(String what, SdkException e) {
        return new Unavailable("idempotency store unavailable (" + what + "): " + e.getMessage()
                + ": handed back, not run unguarded", e);
    }

    private static java.util.function.Consumer<software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration.Builder>
            timeout(Duration timeout) {
        return o -> o.apiCallTimeout(timeout).apiCallAttemptTimeout(timeout);
    }

    private static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }

    private static AttributeValue n(long value) {
        return AttributeValue.fromN(Long.toString(value));
    }
}
