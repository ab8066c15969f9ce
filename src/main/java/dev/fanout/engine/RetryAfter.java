package dev.fanout.engine;

import java.time.Duration;
import java.util.Optional;

/**
 * A retryable failure that says how long to wait before its item is tried again: an HTTP call's
 * {@code Retry-After}, or a user's {@link RetryLaterException}. The engine carries the wait on the item's
 * {@link Outcome.Failed#retryAfter()}; a queue's entry point delays the record's next delivery by at least
 * that much (capped at its maximum). A {@link NonRetryableException} that implements it is still permanent.
 */
public interface RetryAfter {

    /** The wait asked for, if any; as given (the entry point refuses a negative one and caps a long one). */
    Optional<Duration> retryAfter();

    /**
     * A wait that was given but could not be read, as given: a service's {@code Retry-After} that is negative, or
     * neither seconds nor an HTTP date. It asks for no wait; the entry point counts it as a fault.
     */
    default Optional<String> unreadableRetryAfter() {
        return Optional.empty();
    }
}
