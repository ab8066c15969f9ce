package dev.fanout.function;

/**
 * An event of a kind the entry point does not serve ({@link EventKind}). It reaches Lambda as the invocation's
 * error (its type and message), so that a trigger wired to the wrong function shows as failed invocations, not as
 * successes with no work done.
 */
public final class WrongEventException extends IllegalArgumentException {

    WrongEventException(String message) {
        super(message);
    }
}
