package dev.fanout.work;

import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.RejectedItemException;

/**
 * What one item of a type does, blocking: return the output (any value Jackson can write) or throw.
 * Blocking I/O is fine: each item runs on its own virtual thread.
 * <p>
 * A handler is a CDI bean qualified by the item type it serves ({@link ItemType}):
 *
 * <pre>
 * &#64;ApplicationScoped
 * &#64;ItemType("geocode")
 * public class GeocodeHandler implements WorkHandler {
 *     public Object handle(WorkContext context) throws Exception {
 *         Address address = context.payload(Address.class); // malformed payload: rejected
 *         return geocoder.lookup(address, context.remaining()); // pass the time left on
 *     }
 * }
 * </pre>
 *
 * Throw {@link NonRetryableException} for a permanent failure and
 * {@link RejectedItemException} for a malformed item; any other exception is retryable.
 */
@FunctionalInterface
public interface WorkHandler {

    Object handle(WorkContext context) throws Exception;
}
