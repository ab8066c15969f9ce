package dev.fanout.engine;

import java.time.Duration;
import java.util.Optional;

/**
 * Thrown by a handler to say that its item failed for now and is to be tried again no earlier than
 * {@code delay} from now: a retryable failure ({@link Outcome.Failed} with {@code retryable == true}) that
 * carries its delay. On a queue source the record comes back after the larger of this delay and the
 * backoff's own, capped at {@code fanout.retry.max-delay}; a negative delay is refused there (the backoff's
 * delay applies, and the fault is counted), never here: a handler's failure must not become another one.
 */
public class RetryLaterException extends RuntimeException implements RetryAfter {

    private final Duration delay;

    /** @param delay the wait asked for; null asks for none */
    public RetryLaterException(Duration delay, String message) {
        super(message);
        this.delay = delay;
    }

    public RetryLaterException(Duration delay, String message, Throwable cause) {
        super(message, cause);
        this.delay = delay;
    }

    /** The wait asked for, as given. */
    public Duration delay() {
        return delay;
    }

    @Override
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(delay);
    }
}
