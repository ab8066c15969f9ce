package dev.fanout.bench;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Samples the OS threads and open files of this process on a daemon thread, keeping the peaks. Lambda
 * caps both at 1,024 per execution environment, so they matter as much as memory.
 */
public final class ResourceSampler implements AutoCloseable {

    private final AtomicLong peakThreads = new AtomicLong(-1);
    private final AtomicLong peakFiles = new AtomicLong(-1);
    private volatile long baselineThreads = -1;
    private volatile long baselineFiles = -1;
    private final Thread sampler;

    public ResourceSampler(long periodMillis) {
        sampler = Thread.ofPlatform().daemon().name("resource-sampler").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                sample();
                try {
                    Thread.sleep(periodMillis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    private void sample() {
        peakThreads.accumulateAndGet(ProcStatus.threads(), Math::max);
        peakFiles.accumulateAndGet(ProcStatus.openFiles(), Math::max);
    }

    /** Starts a new peak from the current figures, which become the baseline. */
    public void reset() {
        baselineThreads = ProcStatus.threads();
        baselineFiles = ProcStatus.openFiles();
        peakThreads.set(baselineThreads);
        peakFiles.set(baselineFiles);
    }

    /** OS threads at the last {@link #reset}. */
    public long baselineThreads() {
        return baselineThreads;
    }

    /** Open files at the last {@link #reset}: the JVM's own (class path jars included). */
    public long baselineOpenFiles() {
        return baselineFiles;
    }

    public long peakThreads() {
        sample();
        return peakThreads.get();
    }

    public long peakOpenFiles() {
        sample();
        return peakFiles.get();
    }

    @Override
    public void close() {
        sampler.interrupt();
    }
}
