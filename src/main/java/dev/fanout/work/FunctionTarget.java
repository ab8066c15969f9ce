package dev.fanout.work;

import java.util.Objects;

/**
 * Where a function's instance comes from for one item: one shared instance (an application-scoped or singleton
 * bean, or an object built in code), or a new one per item, released when the item ends (Funqy's default,
 * dependent scope).
 */
@FunctionalInterface
public interface FunctionTarget {

    /** The instance for one item; {@link Lease#close()} releases it when the item ends. */
    Lease acquire();

    /** One item's use of an instance. */
    interface Lease extends AutoCloseable {

        Object instance();

        @Override
        void close();
    }

    /** Every item calls {@code instance}; nothing is released. */
    static FunctionTarget shared(Object instance) {
        Shared lease = new Shared(Objects.requireNonNull(instance, "instance"));
        return () -> lease;
    }

    /** The target of a static method: no instance. */
    static FunctionTarget none() {
        return () -> Shared.NONE;
    }

    record Shared(Object instance) implements Lease {
        static final Shared NONE = new Shared(null);

        @Override
        public void close() {
        }
    }
}
