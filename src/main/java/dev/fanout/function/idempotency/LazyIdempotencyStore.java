package dev.fanout.function.idempotency;

import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;

import dev.fanout.work.IdempotencyStore;

/** A store built when it is first used: the SDK client's classes load when the first idempotent item comes. */
public final class LazyIdempotencyStore implements IdempotencyStore {

    private final Supplier<IdempotencyStore> build;
    private volatile IdempotencyStore store;

    public LazyIdempotencyStore(Supplier<IdempotencyStore> build) {
        this.build = build;
    }

    private IdempotencyStore store() {
        IdempotencyStore built = store;
        if (built == null) {
            synchronized (this) {
                built = store;
                if (built == null) {
                    try {
                        built = build.get();
                    } catch (RuntimeException e) {
                        throw new Unavailable("idempotency store cannot be built: " + e.getMessage(), e);
                    }
                    store = built;
                }
            }
        }
        return built;
    }

    @Override
    public Claim claim(InProgress claim, Instant now, Duration timeout) {
        return store().claim(claim, now, timeout);
    }

    @Override
    public boolean complete(String key, String token, Completed record, Duration timeout) {
        return store().complete(key, token, record, timeout);
    }

    @Override
    public void release(String key, String token, Duration timeout) {
        store().release(key, token, timeout);
    }
}
