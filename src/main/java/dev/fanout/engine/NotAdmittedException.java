package dev.fanout.engine;

/**
 * Thrown by a handler whose item could not begin: it waited outside the engine (for a downstream service's
 * permit) until its deadline and did nothing. The item's outcome is {@link Outcome.NotStarted} with reason
 * {@link Outcome.NotStarted.Reason#NOT_ADMITTED}: it is handed back, never failed.
 */
public class NotAdmittedException extends Exception {

    public NotAdmittedException(String message) {
        super(message);
    }
}
