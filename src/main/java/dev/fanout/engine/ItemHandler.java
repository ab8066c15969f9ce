package dev.fanout.engine;

/**
 * What one item does: returns the value or throws, on the item's own virtual thread, where blocking I/O is
 * cheap. The engine has this one shape; an asynchronous handler is adapted before it reaches the engine
 * by the layer above (the item's thread waits for it).
 * <p>
 * Throw {@link NonRetryableException} for a permanent failure and {@link RejectedItemException} for a
 * malformed item; any other exception is a retryable failure.
 */
@FunctionalInterface
public interface ItemHandler<I, R> {

    R handle(ItemContext<I> context) throws Exception;
}
