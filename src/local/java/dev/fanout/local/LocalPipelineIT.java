package dev.fanout.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.junit.jupiter.api.Test;

/** The main job at a small size, so that the README's first command cannot rot. */
class LocalPipelineIT {

    @Test
    void everySeededMessageEndsWithExactlyOneOutcome() throws Exception {
        var printed = new ByteArrayOutputStream();
        var report = LocalPipeline.run(300, 50, Duration.ofSeconds(5), new PrintStream(printed, true, StandardCharsets.UTF_8));

        String output = printed.toString(StandardCharsets.UTF_8);
        assertThat(report.promiseKept()).as(output).isTrue();
        assertThat(report.seeded()).isEqualTo(300);
        assertThat(report.distinctResults() + report.deadLettered()).isEqualTo(300);
        assertThat(report.lateAnswers()).isZero();
        // the two items that hang end in the dead-letter queue; malformed ones are acknowledged with a result
        assertThat(report.deadLettered()).isGreaterThanOrEqualTo(2);
        assertThat(report.byStatus()).containsKeys("succeeded", "rejected", "failed");
        assertThat(output).contains("every message has exactly one outcome: YES");
        // the metrics it prints are the function's own EMF events, and they agree with what the queues hold
        assertThat(report.metrics().get("records").sum()).isEqualTo(report.recordsInvoked());
        assertThat(report.metrics().get("delivered").sum()).isEqualTo(report.acknowledgedResults());
        assertThat(report.metrics().get("records").samples()).isEqualTo(report.invocations());
        assertThat(report.metrics().get("peakConcurrency").max()).isBetween(1.0, 200.0); // FANOUT_MAX_CONCURRENCY
        assertThat(output).contains("the function's metrics", "timedOut", "timeLeftMs", "min ", "peakConcurrency      max ");
    }
}
