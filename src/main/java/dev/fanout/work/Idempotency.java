package dev.fanout.work;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.engine.ItemContext;
import dev.fanout.engine.RejectedItemException;

/**
 * Runs idempotent functions' items at most once successfully per key (docs/idempotency.md). Before an item runs,
 * one conditional write claims its key as in progress until the item's own deadline (not the invocation's: an
 * item cancelled at its cut-off blocks its retry no longer than its own time), plus {@link #CLOCK_ALLOWANCE}. A success replaces the claim by
 * the completed record, its output and an expiry {@code ttl} ahead; a failure deletes the claim so that a retry
 * can run. A key already completed returns its stored output without running; one in progress elsewhere is
 * handed back (a retryable failure); the same key with another payload is rejected. Every store call is bounded
 * by the time the item has left, and a store that cannot answer hands the item back: it never runs unguarded.
 *
 * @param store     the records; null when none is configured (then no function may be idempotent)
 * @param ttl       how long a completed record serves redeliveries ({@code fanout.idempotency.ttl})
 * @param byName    functions made idempotent by configuration ({@code fanout.idempotency.functions}), keyed by id
 * @param clock     the wall clock the records' expiry instants are read on
 */
public record Idempotency(IdempotencyStore store, Duration ttl, Set<String> byName, Clock clock) {

    private static final Logger LOG = Logger.getLogger(Idempotency.class);

    /** Outputs larger than this (UTF-8 bytes of their JSON) are stored as their digest: a DynamoDB item stops at 400 KB. */
    public static final int LARGEST_STORED_OUTPUT = 350_000;

    /**
     * How far the claimer's and a taker's clocks may disagree: a claim lasts this much beyond its item's deadline, so
     * that a run whose clock is ahead does not take over a claim whose run is still inside its own deadline (nor one
     * whose cancellation, which the deadline starts, has not ended it yet).
     */
    public static final Duration CLOCK_ALLOWANCE = Duration.ofSeconds(1);

    /**
     * The least time a completion write gets, even when the item's deadline is nearer (or passed while its function
     * ran): the write outlives the item's cancellation, so that the side effect that happened is recorded.
     */
    public static final Duration COMPLETION_TIME = Duration.ofSeconds(2);

    /** No store: a function marked idempotent fails the start. */
    public static final Idempotency NONE = new Idempotency(null, Duration.ofHours(1), Set.of(), Clock.systemUTC());

    public Idempotency {
        Objects.requireNonNull(ttl, "ttl");
        Objects.requireNonNull(clock, "clock");
        byName = Set.copyOf(byName);
        if (ttl.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("fanout.idempotency.ttl is " + ttl + ": it must be 1 s or more");
        }
    }

    /** Thrown when another run holds the item's key: the item is handed back and retried after that run. */
    public static final class InProgressElsewhere extends RuntimeException {
        InProgressElsewhere(String message) {
            super(message);
        }
    }

    /** The item's output: the stored one, or {@code body}'s, run only when this item claimed its key. */
    JsonNode run(IdempotencyKeys keys, boolean returnsNothing, WorkItem item, ItemContext<?> context,
            ObjectMapper mapper, Callable<JsonNode> body) throws Exception {
        IdempotencyKeys.Keyed keyed = keys.of(item, mapper);
        Instant now = clock.instant();
        Instant until = now.plus(positive(context.remaining(), item)).plus(CLOCK_ALLOWANCE);
        String token = UUID.randomUUID().toString();
        IdempotencyStore.Claim claim;
        try {
            claim = store.claim(new IdempotencyStore.InProgress(keyed.recordKey(), token, keyed.payloadHash(), until,
                    until.plus(ttl)), now, positive(context.remaining(), item));
        } catch (IdempotencyStore.CorruptRecord corrupt) {
            throw new RejectedItemException("idempotency record of '" + item.type() + "' item: " + corrupt.getMessage(),
                    corrupt);
        }
        if (claim instanceof IdempotencyStore.Claim.Held(IdempotencyStore.Record record)) {
            return held(record, keyed, returnsNothing, item, mapper);
        }
        JsonNode output;
        try {
            output = body.call();
        } catch (Exception | Error failure) {
            release(keyed, token, item, context, failure);
            throw failure;
        }
        complete(keyed, token, output, item, context, mapper);
        return output;
    }

    private JsonNode held(IdempotencyStore.Record record, IdempotencyKeys.Keyed keyed, boolean returnsNothing,
            WorkItem item, ObjectMapper mapper) {
        if (!record.payloadHash().equals(keyed.payloadHash())) {
            throw new RejectedItemException("idempotency key of '" + item.type() + "' item was used with another"
                    + " payload (its record's payload hash is " + abbreviated(record.payloadHash()) + ", this item's "
                    + abbreviated(keyed.payloadHash()) + "): refused, so that it is never served another payload's output");
        }
        return switch (record) {
            case IdempotencyStore.Record.Running(String hash, Instant inProgressUntil) -> throw new InProgressElsewhere(
                    "'" + item.type() + "' item's key is in progress in another run until " + inProgressUntil
                            + ": handed back, so that it never runs twice at once");
            case IdempotencyStore.Record.Done(IdempotencyStore.Completed completed) -> {
                LOG.debugf("'%s' item %s: completed before, its stored output returned", item.type(), item.id());
                yield returnsNothing ? null : stored(completed, item, mapper);
            }
        };
    }

    private static JsonNode stored(IdempotencyStore.Completed completed, WorkItem item, ObjectMapper mapper) {
        if (completed.output().isEmpty()) {
            ObjectNode digest = JsonNodeFactory.instance.objectNode();
            digest.put("idempotency", "output not stored: " + (completed.outputBytes() > LARGEST_STORED_OUTPUT
                    ? "its " + completed.outputBytes() + " bytes exceed the store's limit of " + LARGEST_STORED_OUTPUT
                    : "the store refused its record as too large") + "; this is its digest");
            digest.put("outputSha256", completed.outputSha256());
            digest.put("outputBytes", completed.outputBytes());
            return digest;
        }
        try {
            return mapper.readTree(completed.output().get());
        } catch (JsonProcessingException e) {
            throw new RejectedItemException("idempotency record of '" + item.type() + "' item: its stored output does"
                    + " not parse: " + e.getOriginalMessage(), e);
        }
    }

    private void complete(IdempotencyKeys.Keyed keyed, String token, JsonNode output, WorkItem item,
            ItemContext<?> context, ObjectMapper mapper) {
        byte[] json;
        try {
            json = mapper.writeValueAsBytes(output == null ? NullNode.getInstance() : output);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        Optional<String> text = json.length > LARGEST_STORED_OUTPUT ? Optional.empty()
                : Optional.of(new String(json, StandardCharsets.UTF_8));
        var completed = new IdempotencyStore.Completed(keyed.payloadHash(), text, IdempotencyKeys.sha256(json),
                json.length, clock.instant().plus(ttl));
        // The side effect happened: the record must be written even if the item's deadline cancels the item now
        // (its outcome is then timed out, and the redelivery gets the stored output instead of running again). So
        // the write runs on a thread of its own, which the cut-off's interrupt does not reach, with at least
        // COMPLETION_TIME; the item waits for it until the write ends or the cut-off interrupts the wait.
        Duration time = context.remaining().compareTo(COMPLETION_TIME) > 0 ? context.remaining() : COMPLETION_TIME;
        Thread write = Thread.ofVirtual().name("idempotency-completion").start(() -> {
            try {
                if (!store.complete(keyed.recordKey(), token, completed, time)) {
                    LOG.warnf("'%s' item %s: its claim expired and another run took its key over before it"
                            + " completed; its output is not stored", item.type(), item.id());
                }
            } catch (RuntimeException e) {
                // failing the item now would run it again once the claim expires: the output is returned
                LOG.warnf("'%s' item %s succeeded but its completion could not be stored (%s): a redelivery after"
                        + " the claim's expiry would run it again", item.type(), item.id(), e.getMessage());
            }
        });
        try {
            write.join();
        } catch (InterruptedException cutOff) {
            Thread.currentThread().interrupt(); // the write goes on; the engine ends the item
        }
    }

    private void release(IdempotencyKeys.Keyed keyed, String token, WorkItem item, ItemContext<?> context,
            Throwable failure) {
        try {
            store.release(keyed.recordKey(), token, positive(context.remaining(), item));
        } catch (RuntimeException e) {
            // the claim expires at the item's deadline anyway, and a retry then takes it over
            failure.addSuppressed(e);
        }
    }

    private static Duration positive(Duration remaining, WorkItem item) {
        if (remaining.isNegative() || remaining.isZero()) {
            throw new IdempotencyStore.Unavailable("'" + item.type() + "' item has no time left for the idempotency"
                    + " store: handed back", null);
        }
        return remaining;
    }

    private static String abbreviated(String hash) {
        return hash.length() > 12 ? hash.substring(0, 12) + "…" : hash;
    }
}
