package dev.fanout.engine;

/**
 * Thrown by a handler to say that its item failed for good (a permanent error: retrying the same
 * input gives the same failure). The item's outcome is {@link Outcome.Failed} with
 * {@code retryable == false}. Any other exception means a retryable failure.
 */
public class NonRetryableException extends RuntimeException {

    public NonRetryableException(String message) {
        super(message);
    }

    public NonRetryableException(String message, Throwable cause) {
        super(message, cause);
    }
}
