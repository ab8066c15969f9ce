package dev.fanout.engine;

import java.util.Objects;

/**
 * Runs a batch of items on virtual threads, at most {@link Limits#maxConcurrency()} at once, and
 * returns one {@link Outcome} per item by the batch's deadline.
 * <ul>
 * <li>A thread is created only when an item gets a slot: a 10,000-item batch never holds more than
 * {@code maxConcurrency} threads.</li>
 * <li>At the cut-off (deadline minus {@link Limits#cutoffMargin()}) nothing more starts; running items
 * are cancelled (interrupt plus their {@link Cancellation}) and timed out, the rest are not started.
 * The run returns by the deadline even if a handler ignores cancellation.</li>
 * <li>Outcomes are collected by index and set exactly once.</li>
 * </ul>
 * A pool holds no threads between runs; one pool can serve many runs, also concurrently.
 */
public final class WorkerPool {

    static {
        // Mutiny's context-propagation hook sets itself up lazily on the first subscription, and that set-up
        // is not thread-safe ("ContextManagerProvider already set"): do it once here, before a run subscribes
        // to many Unis at once on many threads. Class initialisation runs exactly once.
        io.smallrye.mutiny.Uni.createFrom().voidItem().subscribe().with(ignored -> {
        });
    }

    private final Limits limits;
    private final Ticker ticker;

    public WorkerPool(Limits limits) {
        this(limits, Ticker.system());
    }

    public WorkerPool(Limits limits, Ticker ticker) {
        this.limits = Objects.requireNonNull(limits, "limits");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
    }

    public Limits limits() {
        return limits;
    }

    /**
     * Runs {@code batch} through {@code handler} and blocks until every item has an outcome, or until
     * the cut-off. If the calling thread is interrupted, the run cuts off at once.
     *
     * @throws IllegalArgumentException if the deadline is on another ticker, or if the cut-off margin
     *                                  leaves no time before the deadline
     */
    public <I, R> BatchResult<R> run(Batch<I> batch, ItemHandler<I, R> handler, Deadline deadline) {
        Objects.requireNonNull(batch, "batch");
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(deadline, "deadline");
        if (deadline.ticker() != ticker) {
            throw new IllegalArgumentException("deadline is on another ticker than this pool's");
        }
        long left = deadline.remainingNanos();
        if (left <= Deadline.saturatedNanos(limits.cutoffMargin())) {
            throw new IllegalArgumentException("cut-off margin " + limits.cutoffMargin()
                    + " leaves no time before the deadline (" + java.time.Duration.ofNanos(left) + " left)");
        }
        return new Run<>(batch, handler, limits, ticker, deadline).execute();
    }
}
