package dev.fanout.engine;

import io.smallrye.mutiny.Uni;

/**
 * What one item does, in one of two shapes that run under the same bounds and cut-off. Both are
 * called on the item's own virtual thread.
 * <ul>
 * <li>{@link Blocking}: returns the value or throws. Blocking I/O is cheap on a virtual thread.</li>
 * <li>{@link Async}: returns a Mutiny {@link Uni}; the item runs until it completes, and an
 * unfinished {@code Uni} is cancelled at the item's deadline.</li>
 * </ul>
 * Throw {@link NonRetryableException} for a permanent failure and {@link RejectedItemException}
 * for a malformed item; any other exception is a retryable failure.
 */
public sealed interface ItemHandler<I, R> {

    @FunctionalInterface
    non-sealed interface Blocking<I, R> extends ItemHandler<I, R> {
        R handle(ItemContext<I> context) throws Exception;
    }

    @FunctionalInterface
    non-sealed interface Async<I, R> extends ItemHandler<I, R> {
        Uni<R> handle(ItemContext<I> context) throws Exception;
    }

    static <I, R> Blocking<I, R> blocking(Blocking<I, R> handler) {
        return handler;
    }

    static <I, R> Async<I, R> async(Async<I, R> handler) {
        return handler;
    }
}
