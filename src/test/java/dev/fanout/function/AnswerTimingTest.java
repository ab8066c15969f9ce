package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/** The HTTP entry point's default cut-off margin: the benchmark's answer time, scaled for Lambda's CPU share. */
class AnswerTimingTest {

    static final Duration GRACE = Duration.ofMillis(100);

    @Test
    void withOneVcpuOrMoreTheMarginIsGracePlusThreeTimesTheBenchmarksAnswerTime() {
        assertThat(AnswerTiming.defaultMargin(GRACE, 1_769)).isEqualTo(Duration.ofMillis(1_000));
        assertThat(AnswerTiming.defaultMargin(GRACE, 10_240)).isEqualTo(Duration.ofMillis(1_000));
    }

    @Test
    void withLessThanOneVcpuTheAnswerTimeGrowsByTheMissingShare() {
        // 300 ms x 1769 / 1024 = 518.3, rounded up to 519; x 3 + 100
        assertThat(AnswerTiming.defaultMargin(GRACE, 1_024)).isEqualTo(Duration.ofMillis(1_657));
        // 300 ms x 1769 / 512 = 1036.5 -> 1037
        assertThat(AnswerTiming.defaultMargin(GRACE, 512)).isEqualTo(Duration.ofMillis(3_211));
        assertThat(AnswerTiming.defaultMargin(Duration.ZERO, 1_768)).isEqualTo(Duration.ofMillis(903));
    }

    @Test
    void aMemorySizeThatIsNotPositiveIsRefused() {
        assertThatThrownBy(() -> AnswerTiming.defaultMargin(GRACE, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("memory size must be positive, got 0 MB");
    }
}
