package dev.fanout.work.http;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.RetryAfter;

/**
 * A retryable failure of an HTTP call: HTTP 429 or 5xx, a connection or DNS failure, a timeout. Being no
 * {@link NonRetryableException}, it makes the item's outcome a retryable failure, which carries the server's
 * {@code Retry-After} when it gave one.
 */
public final class HttpCallException extends IOException implements RetryAfter {

    private final int status;
    private final Duration retryAfter;

    HttpCallException(int status, Duration retryAfter, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.retryAfter = retryAfter;
    }

    /** The response status, or 0 when there was no response (connection failure, timeout). */
    public int status() {
        return status;
    }

    /**
     * The wait the server asked for (Retry-After of a 429 or 503), if it did. Carried on the item's outcome
     * ({@link RetryAfter}): a wait that did not fit the invocation delays the record's next delivery instead.
     */
    @Override
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    /** This failure with {@code suffix} added to its message. */
    HttpCallException withSuffix(String suffix) {
        return new HttpCallException(status, retryAfter, getMessage() + suffix, getCause());
    }
}
