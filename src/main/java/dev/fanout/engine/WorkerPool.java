package dev.fanout.engine;

import java.time.Duration;
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
 * A pool holds no threads between runs; one pool can serve many runs, also concurrently. The engine
 * needs nothing beyond the JDK.
 */
public final class WorkerPool {

    private final Limits limits;
    private final Ticker ticker;
    private final long maxWaitNanos;

    public WorkerPool(Limits limits) {
        this(limits, Ticker.system());
    }

    public WorkerPool(Limits limits, Ticker ticker) {
        this(limits, ticker, ticker.maxWait());
    }

    /**
     * A pool whose waits re-read the ticker at least every {@code maxWait}. That bound is a safety net: every
     * wait of a run also ends by a signal or by its own timer. The tests lift it to prove those, since a
     * missing wake-up shows only as a run that ends late by up to the bound.
     */
    WorkerPool(Limits limits, Ticker ticker, Duration maxWait) {
        this.limits = Objects.requireNonNull(limits, "limits");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.maxWaitNanos = Deadline.saturatedNanos(Objects.requireNonNull(maxWait, "maxWait"));
    }

    public Limits limits() {
        return limits;
    }

    /**
     * Whether a run under {@code deadline} would still have time before its cut-off (deadline minus the
     * margin). A caller that asks first can tell "the invocation came too late" from a run in which
     * everything was cut off; a run without time is no error either (see {@link #run}).
     *
     * @throws IllegalArgumentException if the deadline is on another ticker
     */
    public boolean hasTimeBeforeCutoff(Deadline deadline) {
        checkTicker(Objects.requireNonNull(deadline, "deadline"));
        return deadline.minus(limits.cutoffMargin()).remainingNanos() > 0;
    }

    /**
     * Runs {@code batch} through {@code handler} and blocks until every item has an outcome, or until
     * the cut-off. If the calling thread is interrupted, the run cuts off at once. If the cut-off has
     * already passed, nothing starts and every item is {@link Outcome.NotStarted} with reason
     * {@code CUT_OFF} ({@link #hasTimeBeforeCutoff} tells that case apart beforehand).
     *
     * @throws IllegalArgumentException if the deadline is on another ticker
     */
    public <I, R> BatchResult<R> run(Batch<I> batch, ItemHandler<I, R> handler, Deadline deadline) {
        return start(batch, handler, deadline, null);
    }

    /**
     * {@link #run(Batch, ItemHandler, Deadline)}, telling {@code listener} of each item's outcome as it is
     * set: the outcome the result will hold for that item, once per item (see {@link OutcomeListener}).
     */
    public <I, R> BatchResult<R> run(Batch<I> batch, ItemHandler<I, R> handler, Deadline deadline,
            OutcomeListener<R> listener) {
        return start(batch, handler, deadline, Objects.requireNonNull(listener, "listener"));
    }

    private <I, R> BatchResult<R> start(Batch<I> batch, ItemHandler<I, R> handler, Deadline deadline,
            OutcomeListener<R> listener) {
        Objects.requireNonNull(batch, "batch");
        Objects.requireNonNull(handler, "handler");
        checkTicker(Objects.requireNonNull(deadline, "deadline"));
        return new BatchRun<>(batch, handler, limits, ticker, maxWaitNanos, deadline, listener).execute();
    }

    private void checkTicker(Deadline deadline) {
        if (deadline.ticker() != ticker) {
            throw new IllegalArgumentException("deadline is on another ticker than this pool's");
        }
    }
}
