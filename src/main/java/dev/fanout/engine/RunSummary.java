package dev.fanout.engine;

import java.time.Duration;

/**
 * Figures of one run, for the invocation's log line.
 *
 * @param peakConcurrency most items running at once
 * @param p50             median running time of the items that started
 * @param p95             95th percentile (nearest rank) of the same
 * @param max             longest running time
 * @param elapsed         from the start of the run to its return
 * @param timeLeft        time before the deadline at return
 * @param abandoned       items still running at return: cancelled, but their handler ignored it
 */
public record RunSummary(int items, int succeeded, int failed, int rejected, int timedOut, int notStarted,
        int peakConcurrency, Duration p50, Duration p95, Duration max, Duration elapsed, Duration timeLeft,
        int abandoned) {
}
