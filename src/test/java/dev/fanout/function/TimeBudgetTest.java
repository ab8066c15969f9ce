package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.fanout.testing.FanoutSettings;

/** How an invocation's time is shared, and the HTTP entry point's derived cut-off margin. */
class TimeBudgetTest {

    static final Duration GRACE = Duration.ofMillis(100);

    @Test
    void withOneVcpuOrMoreTheMarginIsGracePlusThreeTimesTheBenchmarksAnswerTime() {
        assertThat(TimeBudget.derivedHttpMargin(GRACE, 1_769)).isEqualTo(Duration.ofMillis(1_000));
        assertThat(TimeBudget.derivedHttpMargin(GRACE, 10_240)).isEqualTo(Duration.ofMillis(1_000));
    }

    @Test
    void withLessThanOneVcpuTheAnswerTimeGrowsByTheMissingShare() {
        // 300 ms x 1769 / 1024 = 518.3, rounded up to 519; x 3 + 100
        assertThat(TimeBudget.derivedHttpMargin(GRACE, 1_024)).isEqualTo(Duration.ofMillis(1_657));
        // 300 ms x 1769 / 512 = 1036.5 -> 1037
        assertThat(TimeBudget.derivedHttpMargin(GRACE, 512)).isEqualTo(Duration.ofMillis(3_211));
        assertThat(TimeBudget.derivedHttpMargin(Duration.ZERO, 1_768)).isEqualTo(Duration.ofMillis(903));
    }

    @Test
    void aMemorySizeThatIsNotPositiveIsRefused() {
        assertThatThrownBy(() -> TimeBudget.derivedHttpMargin(GRACE, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("memory size must be positive, got 0 MB");
    }

    @Test
    void theDefaultsGiveTheFanInWhatTheOtherSharesLeave() {
        TimeBudget budget = TimeBudget.of(FanoutSettings.config());

        // 3 s - 100 ms cancel grace - 250 ms response margin
        assertThat(budget.fanIn()).isEqualTo(Duration.ofMillis(2_650));
        // 250 ms response margin - 100 ms reserve
        assertThat(budget.redelivery()).isEqualTo(Duration.ofMillis(150));
        assertThat(budget.httpCutoffMargin()).isEqualTo(Duration.ofMillis(1_000));
        assertThat(budget.httpConfigured()).isFalse();
        assertThat(budget.problems(true, Duration.ofSeconds(29))).isEmpty();
    }

    @Test
    void eachRelationThatCannotHoldNamesTheSettingToChange() {
        TimeBudget tight = TimeBudget.of(FanoutSettings.config("fanout.cutoff-margin", "400ms",
                "fanout.retry.response-reserve", "250ms", "fanout.http-api.cutoff-margin", "30s"));

        assertThat(tight.problems(true, Duration.ofSeconds(29))).extracting(TimeBudget.Problem::setting)
                .containsExactly("fanout.cutoff-margin", "fanout.retry.response-reserve", "fanout.http-api.cutoff-margin");
        // the HTTP entry point sends no results: the fan-in's share does not concern it
        assertThat(tight.problems(false, Duration.ofSeconds(29))).extracting(TimeBudget.Problem::setting)
                .containsExactly("fanout.retry.response-reserve", "fanout.http-api.cutoff-margin");
        // exactly enough is not enough: the fan-in needs more than one call's minimum
        assertThat(TimeBudget.of(FanoutSettings.config("fanout.cutoff-margin", "400ms", "fanout.results.min-call-time",
                "49ms")).problems(true, Duration.ofSeconds(29))).isEmpty();
    }
}
