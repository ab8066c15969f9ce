package dev.fanout.engine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentLinkedQueue;

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

    private static final VarHandle CAUSE;
    private static final VarHandle CALLBACKS;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            CAUSE = lookup.findVarHandle(Cancellation.class, "cause", Cause.class);
            CALLBACKS = lookup.findVarHandle(Cancellation.class, "callbacks", ConcurrentLinkedQueue.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // one per started item: plain fields set by compare-and-set, and the queue only for an item that registers
    private volatile Cause cause;
    private volatile ConcurrentLinkedQueue<Runnable> callbacks;

    public boolean isCancelled() {
        return cause != null;
    }

    public Optional<Cause> cause() {
        return Optional.ofNullable(cause);
    }

    /** Throws {@link CancellationException} once cancelled: a cheap check for CPU-bound loops. */
    public void throwIfCancelled() {
        Cause c = cause;
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
        ConcurrentLinkedQueue<Runnable> callbacks = this.callbacks;
        if (callbacks == null) {
            CALLBACKS.compareAndSet(this, null, new ConcurrentLinkedQueue<Runnable>());
            callbacks = this.callbacks;
        }
        callbacks.add(callback);
        // cancel() may have drained the queue before the add: whoever removes the callback runs it
        if (isCancelled() && callbacks.remove(callback)) {
            runQuietly(callback);
        }
    }

    /** Sets the cause; returns false if the item was already cancelled. Callbacks run separately. */
    boolean markCancelled(Cause why) {
        return CAUSE.compareAndSet(this, (Cause) null, why);
    }

    boolean hasCallbacks() {
        ConcurrentLinkedQueue<Runnable> queue = callbacks;
        return queue != null && !queue.isEmpty();
    }

    /** Runs each registered callback once. */
    void runCallbacks() {
        ConcurrentLinkedQueue<Runnable> queue = callbacks;
        if (queue == null) {
            return;
        }
        Runnable callback;
        while ((callback = queue.poll()) != null) {
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
