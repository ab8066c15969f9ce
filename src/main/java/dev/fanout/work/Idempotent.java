package dev.fanout.work;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a {@code @Funq} function idempotent: it runs at most once successfully per idempotency key, however often
 * its item comes back (a lost acknowledgement, a kill, a cut-off). A redelivered item whose run completed gets
 * the stored output without running; one that runs elsewhere right now is handed back. See docs/idempotency.md.
 * <p>
 * The key is the item's id (its own, or the SQS message id when its body names none), unless {@link #key()}
 * names fields of the payload. The same key with another payload (all of it, or the fields {@link #payload()}
 * names) is rejected, never served another payload's output. Misuse (a pointer that is no JSON pointer, key
 * fields on a function that takes no payload) fails the start, naming the method.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Idempotent {

    /**
     * JSON pointers (RFC 6901) into the payload whose values, hashed together, are the key; empty: the item's id.
     * A pointer that selects nothing, or only empty values, rejects the item with that reason.
     */
    String[] key() default {};

    /** JSON pointers of the payload's fields that must match the stored record's; empty: the whole payload. */
    String[] payload() default {};
}
