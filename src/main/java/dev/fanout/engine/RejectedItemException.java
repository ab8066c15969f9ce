package dev.fanout.engine;

/**
 * Thrown by a handler when its item is malformed: it cannot be processed, now or ever. The item's
 * outcome is {@link Outcome.Rejected} with this exception's message as the reason.
 */
public class RejectedItemException extends RuntimeException {

    public RejectedItemException(String reason) {
        super(reason);
    }

    public RejectedItemException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
