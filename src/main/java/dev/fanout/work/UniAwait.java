package dev.fanout.work;

import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import dev.fanout.engine.Cancellation;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.Cancellable;

/**
 * Runs a Mutiny {@link Uni} as a blocking call on the item's virtual thread: the engine runs blocking
 * handlers only, and an function returning a {@code Uni} reaches it through here. The item keeps its slot while its
 * thread waits, and its cancellation (the item's timeout or the cut-off) cancels the subscription and ends
 * the wait, so a {@code Uni} that never completes frees its slot at the item's deadline.
 */
public final class UniAwait {

    static {
        // Mutiny sets itself up lazily on the first subscription, and with SmallRye context propagation on the
        // class path (which a user's handler may bring; Fanout itself depends on Mutiny alone) that set-up is
        // not thread-safe ("ContextManagerProvider already set"): do it once here, before a run subscribes to
        // many Unis at once on many threads. Class initialisation runs exactly once.
        Uni.createFrom().voidItem().subscribe().with(ignored -> {
        });
    }

    private UniAwait() {
    }

    /**
     * Runs the one-time Mutiny set-up above, if it has not run. Called when an async handler is registered,
     * because a handler builds its {@code Uni} before {@link #await} is first called: two items building their
     * first Unis at once would otherwise race in Mutiny's lazy set-up and one would fail.
     */
    static void prepare() {
        // class initialisation has done the work by the time this body runs
    }

    /**
     * Subscribes to {@code uni} and waits for its item or failure.
     *
     * @throws InterruptedException  if the thread is interrupted (the engine's cancellation): the subscription
     *                               is cancelled first
     * @throws CancellationException if {@code cancellation} fires: the subscription is cancelled
     * @throws Exception             the {@code Uni}'s failure, as it is
     */
    public static <T> T await(Uni<T> uni, Cancellation cancellation) throws Exception {
        Objects.requireNonNull(uni, "uni");
        Objects.requireNonNull(cancellation, "cancellation");
        CompletableFuture<T> result = new CompletableFuture<>();
        // may complete inside subscribe(), on this thread
        Cancellable subscription = uni.subscribe().with(result::complete, result::completeExceptionally);
        cancellation.onCancel(() -> {
            subscription.cancel();
            result.cancel(false); // a cancelled Uni emits nothing: end the wait here
        });
        try {
            return result.get();
        } catch (InterruptedException e) {
            subscription.cancel();
            throw e;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception failure) {
                throw failure;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw e;
        }
    }
}
