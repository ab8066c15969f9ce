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
    private final String unreadableRetryAfter;
    private final boolean timedOut;

    HttpCallException(int status, Duration retryAfter, String message, Throwable cause) {
        this(status, retryAfter, null, message, cause);
    }

    /** @param unreadableRetryAfter the server's Retry-After, if it gave one that could not be read */
    HttpCallException(int status, Duration retryAfter, String unreadableRetryAfter, String message, Throwable cause) {
        this(status, retryAfter, unreadableRetryAfter, false, message, cause);
    }

    private HttpCallException(int status, Duration retryAfter, String unreadableRetryAfter, boolean timedOut,
            String message, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.retryAfter = retryAfter;
        this.unreadableRetryAfter = unreadableRetryAfter;
        this.timedOut = timedOut;
    }

    /** A request sent that got no answer in its time. */
    static HttpCallException timedOut(String message, Throwable cause) {
        return new HttpCallException(0, null, null, true, message, cause);
    }

    /** True if the request was sent and got no answer in its time (not a DNS lookup that took too long). */
    public boolean timedOut() {
        return timedOut;
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

    /**
     * The server's {@code Retry-After} of a 429 or 503 that was neither seconds nor an HTTP date (a negative number,
     * a word), at most {@value RetryPolicy#MAX_UNREADABLE_CHARS} characters of it: it asks for no wait, and a queue's
     * entry point counts it as a fault.
     */
    @Override
    public Optional<String> unreadableRetryAfter() {
        return Optional.ofNullable(unreadableRetryAfter);
    }

    /** This failure with {@code suffix} added to its message. */
    HttpCallException withSuffix(String suffix) {
        return new HttpCallException(status, retryAfter, unreadableRetryAfter, timedOut, getMessage() + suffix,
                getCause());
    }
}
