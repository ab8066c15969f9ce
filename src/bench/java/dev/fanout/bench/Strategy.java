package dev.fanout.bench;

import java.util.List;
import java.util.Optional;

/**
 * One way to fan a batch out and wait for all of it: the thing the suite compares. Every workload runs
 * every strategy on the same items through the same {@link Task}; each strategy collects successes and
 * failures in its own idiomatic way and reports them as a {@link Tally}. A strategy may keep threads
 * between batches (like a pool held in a static field of a Lambda handler) and releases them on close.
 */
public interface Strategy extends AutoCloseable {

    /** What one item does: the same code for every strategy. */
    @FunctionalInterface
    interface Task<T> {
        Object run(T item) throws Exception;
    }

    /** How many items succeeded and how many failed; a failing item never fails the batch. */
    record Tally(int succeeded, int failed) {
    }

    /** Runs every item and returns once each of them has finished. */
    <T> Tally run(List<T> items, Task<T> task) throws Exception;

    /** Releases the threads the strategy keeps between batches. */
    @Override
    void close();

    /** Runs one item in its own try/catch, as Powertools' {@code processBatchItem} does: the failure or empty. */
    static <T> Optional<Exception> attempt(Task<T> task, T item) {
        try {
            task.run(item);
            return Optional.empty();
        } catch (Exception failure) {
            return Optional.of(failure);
        }
    }
}
