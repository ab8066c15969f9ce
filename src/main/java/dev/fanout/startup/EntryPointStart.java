package dev.fanout.startup;

import java.util.Optional;

/**
 * What one entry point does to start: its part of the init's warm-up ({@link Warmup}) and the run in process
 * that primes it before a SnapStart snapshot ({@link SnapStartHooks}) or while Quarkus starts
 * ({@link StartPriming}). Each entry point provides one as a bean; this package knows none of them by name.
 */
public interface EntryPointStart {

    /** The entry point, as {@code quarkus.lambda.handler} names it. */
    String name();

    /**
     * At init, before the first invocation: builds what the first event needs and, unless {@code snapStart}
     * (a connection made now would not survive the restore), calls its downstream service once. Logs what it
     * found; never throws for an unreachable service (the first invocation tries again within its deadline).
     */
    void warmUp(boolean snapStart);

    /**
     * Runs one event through the entry point in process (parsing, the engine, the built-in functions, the
     * results' JSON, the fan-in to a queue in process) without calling AWS and without counting as an
     * invocation in the metrics.
     */
    Priming prime();

    /** The start of the entry point named {@code name} among {@code starts}, if there is one. */
    static Optional<EntryPointStart> named(Iterable<? extends EntryPointStart> starts, String name) {
        for (EntryPointStart start : starts) {
            if (start.name().equals(name)) {
                return Optional.of(start);
            }
        }
        return Optional.empty();
    }
}
