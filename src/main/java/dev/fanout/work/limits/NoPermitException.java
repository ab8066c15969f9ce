package dev.fanout.work.limits;

/**
 * No permit of a service came before the item's deadline, for an item that had begun its work already (an
 * item that had not is {@link dev.fanout.engine.NotAdmittedException not admitted} instead). A retryable
 * failure.
 */
public final class NoPermitException extends Exception {

    NoPermitException(String message) {
        super(message);
    }
}
