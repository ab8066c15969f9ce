package dev.fanout.fanin;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import dev.fanout.engine.Deadline;

/**
 * Runs the fan-in's requests: up to {@code concurrency} virtual threads take the batches in turn, joined by the
 * deadline. What has not ended by then is left to the caller's bookkeeping (unconfirmed, unchanged); the threads
 * still running are interrupted, which stops those that back off past the deadline. One batch runs on the caller.
 */
final class BatchWorkers {

    private BatchWorkers() {
    }

    static <B> void inParallel(String threadName, int concurrency, List<B> batches, Deadline deadline, Consumer<B> work) {
        if (batches.size() == 1) {
            work.accept(batches.getFirst());
            return;
        }
        var next = new AtomicInteger();
        int workers = Math.min(concurrency, batches.size());
        List<Thread> threads = new ArrayList<>(workers);
        for (int w = 0; w < workers; w++) {
            threads.add(Thread.ofVirtual().name(threadName + w).start(() -> {
                int b;
                while ((b = next.getAndIncrement()) < batches.size()) {
                    work.accept(batches.get(b));
                }
            }));
        }
        try {
            for (Thread thread : threads) {
                long left = deadline.remainingNanos();
                if (left <= 0 || !thread.join(Duration.ofNanos(left))) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            threads.forEach(Thread::interrupt); // no-op for finished ones; stops sleepers past the deadline
        }
    }
}
