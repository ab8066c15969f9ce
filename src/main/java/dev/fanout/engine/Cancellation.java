package dev.fanout.engine;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The cancellation signal of one item, the counterpart of Go's {@code ctx.Done()}. The engine
 * cancels it at the cut-off or at the item's own timeout, and interrupts the item's thread too.
 * Handlers poll it in CPU loops, or register a callback that aborts their I/O.
 */
public final class Cancellation {

    /** Why an item was cancelled. */
    public enum Cause {
        /** The batch's cut-off (deadline minus margin) came. */
        CUT_OFF,
        /** The item ran longer than its per-item timeout. */
        ITEM_TIMEOUT
    }

    private final AtomicReference<Cause> cause = new AtomicReference<>();
    private final ConcurrentLinkedQueue<Runnable> callbacks = new ConcurrentLinkedQueue<>();

    public boolean isCancelled() {
        return cause.get() != null;
    }

    public Optional<Cause> cause() {
        return Optional.ofNullable(cause.get());
    }

    /** Throws {@link CancellationException} once cancelled: a cheap check for CPU-bound loops. */
    public void throwIfCancelled() {
        Cause c = cause.get();
        if (c != null) {
            throw new CancellationException("item cancelled: " + c);
        }
    }

    /**
     * Runs {@code callback} once when the item is cancelled, or at once if it already is. Callbacks
     * run on an engine thread: keep them short and non-blocking (cancel a request, close a stream).
     */
    public void onCancel(Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        callbacks.add(callback);
        // cancel() may have drained the queue before the add: whoever removes the callback runs it
        if (isCancelled() && callbacks.remove(callback)) {
            runQuietly(callback);
        }
    }

    /** Sets the cause; returns false if the item was already cancelled. Callbacks run separately. */
    boolean markCancelled(Cause why) {
        return cause.compareAndSet(null, why);
    }

    boolean hasCallbacks() {
        return !callbacks.isEmpty();
    }

    /** Runs each registered callback once. */
    void runCallbacks() {
        Runnable callback;
        while ((callback = callbacks.poll()) != null) {
            runQuietly(callback);
        }
    }

    private static void runQuietly(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException ignored) {
            // a failing cancel callback must not stop the others; the item's outcome is already set
        }
    }
}
