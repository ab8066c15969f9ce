package dev.fanout.engine;

/**
 * Told of each item's outcome as it is set, while the run goes on: a caller can act on an item that is done
 * (send its result, say) without waiting for the batch.
 * <p>
 * It is called once per item, with the outcome the run returns for that item, on whichever thread set it
 * (usually the item's own thread, after it has freed its slot and left the run's lock), so calls for
 * different items may overlap and come in any order. It should be quick and must not throw: what it throws
 * is dropped, so that no item loses its slot hand-over to a listener. Every call has returned when
 * {@link WorkerPool#run} returns, unless a call is still running at the deadline (the run never waits past it).
 */
@FunctionalInterface
public interface OutcomeListener<R> {

    void decided(int index, Outcome<R> outcome);
}
