package dev.fanout.work;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Where idempotency records live (DynamoDB in production). One record per function and key: <em>in progress</em>
 * until an instant (the claiming item's own deadline), or <em>completed</em> with the output. Every call is bounded
 * by {@code timeout}, the time its item has left. A store that throttles, times out or cannot be reached throws
 * {@link Unavailable}: the item is handed back, never run unguarded.
 * <p>
 * The store compares times the caller gives it ({@code now}); it never relies on the database's own expiry (TTL
 * deletes late, and local servers have none).
 */
public interface IdempotencyStore {

    /**
     * Writes {@code claim} as in progress, in one conditional write, unless a live record holds its key: none, a
     * completed one whose {@code expiresAt} passed, or an in-progress one whose {@code inProgressUntil} passed
     * (taken over) may be replaced.
     *
     * @return {@link Claim.Claimed}, or {@link Claim.Held} with the live record that holds the key
     * @throws Unavailable    if the store could not answer in time
     * @throws CorruptRecord  if the record that holds the key cannot be read
     */
    Claim claim(InProgress claim, Instant now, Duration timeout);

    /**
     * Replaces the claim {@code token} holds by the completed record, if that claim still holds the key.
     *
     * @return false if another item took the key over (the claim had expired)
     * @throws Unavailable if the store could not answer in time
     */
    boolean complete(String key, String token, Completed record, Duration timeout);

    /**
     * Deletes the claim {@code token} holds, if it still holds the key, so that a retry can run.
     *
     * @throws Unavailable if the store could not answer in time
     */
    void release(String key, String token, Duration timeout);

    /** A claim: {@code key} is the function's name and the item's idempotency key; {@code token} names the claimer. */
    record InProgress(String key, String token, String payloadHash, Instant inProgressUntil, Instant expiresAt) {
        public InProgress {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(token, "token");
            Objects.requireNonNull(payloadHash, "payloadHash");
            Objects.requireNonNull(inProgressUntil, "inProgressUntil");
            Objects.requireNonNull(expiresAt, "expiresAt");
        }
    }

    /**
     * A completed run's record.
     *
     * @param output       the output as JSON text; empty when it was too large to store
     * @param outputSha256 the output's SHA-256 (hex)
     * @param outputBytes  the output's size in UTF-8 bytes
     */
    record Completed(String payloadHash, Optional<String> output, String outputSha256, long outputBytes,
            Instant expiresAt) {
        public Completed {
            Objects.requireNonNull(payloadHash, "payloadHash");
            Objects.requireNonNull(output, "output");
            Objects.requireNonNull(outputSha256, "outputSha256");
            Objects.requireNonNull(expiresAt, "expiresAt");
        }
    }

    /** What a claim found. */
    sealed interface Claim {
        /** The key is this item's to run. */
        record Claimed() implements Claim {
        }

        /** A live record holds the key: another run in progress, or a completed one. */
        record Held(Record record) implements Claim {
        }
    }

    /** A live record as it was read. */
    sealed interface Record {
        String payloadHash();

        record Running(String payloadHash, Instant inProgressUntil) implements Record {
        }

        record Done(Completed completed) implements Record {
            @Override
            public String payloadHash() {
                return completed.payloadHash();
            }
        }
    }

    /** The store did not answer in time (throttled, timed out, down): a retryable failure. */
    class Unavailable extends RuntimeException {
        public Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A stored record that does not parse. */
    class CorruptRecord extends RuntimeException {
        public CorruptRecord(String message) {
            super(message);
        }
    }
}
