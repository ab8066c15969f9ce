package dev.fanout.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class DeadlineTest {

    final ManualTicker ticker = new ManualTicker();

    @Test
    void ordersByTheirInstantAcrossAWrapOfTheCounter() {
        Deadline early = Deadline.after(Duration.ofSeconds(1), ticker);
        Deadline late = Deadline.after(Duration.ofSeconds(2), ticker);
        assertThat(early.compareTo(late)).isNegative();
        assertThat(late.compareTo(early)).isPositive();
        assertThat(early.compareTo(Deadline.after(Duration.ofSeconds(1), ticker))).isZero();
        // readings near the end of the counter: the later one has wrapped to a negative value
        Deadline beforeWrap = Deadline.atNanos(ticker, Long.MAX_VALUE - 10);
        Deadline afterWrap = Deadline.atNanos(ticker, Long.MAX_VALUE + 10);
        assertThat(beforeWrap.compareTo(afterWrap)).isNegative();
        assertThat(afterWrap.compareTo(beforeWrap)).isPositive();
    }

    @Test
    void equalOnlyForTheSameInstantOnTheSameTicker() {
        Deadline one = Deadline.after(Duration.ofSeconds(1), ticker);
        assertThat(one).isEqualTo(Deadline.after(Duration.ofSeconds(1), ticker))
                .hasSameHashCodeAs(Deadline.after(Duration.ofSeconds(1), ticker));
        assertThat(one).isNotEqualTo(Deadline.after(Duration.ofSeconds(2), ticker));
        assertThat(one).isNotEqualTo(Deadline.atNanos(new ManualTicker(), one.nanos()));
        assertThat(one).isNotEqualTo("a deadline");
    }

    @Test
    void atMostIsTheEarlierOfTheTwo() {
        Deadline tenSeconds = Deadline.after(Duration.ofSeconds(10), ticker);
        assertThat(tenSeconds.atMost(Duration.ofSeconds(3)).remaining()).isEqualTo(Duration.ofSeconds(3));
        assertThat(tenSeconds.atMost(Duration.ofSeconds(30))).isSameAs(tenSeconds);
        assertThat(tenSeconds.atMost(Duration.ofSeconds(10))).isEqualTo(tenSeconds);
    }

    @Test
    void remainingAndExpiryFollowTheTicker() {
        Deadline deadline = Deadline.after(Duration.ofSeconds(2), ticker);
        assertThat(deadline.minus(Duration.ofSeconds(1)).remaining()).isEqualTo(Duration.ofSeconds(1));
        ticker.advance(Duration.ofMillis(1999));
        assertThat(deadline.isExpired()).isFalse();
        ticker.advance(Duration.ofMillis(1));
        assertThat(deadline.isExpired()).isTrue();
        assertThat(deadline.remaining()).isEqualTo(Duration.ZERO);
    }

    @Test
    void distinctInstantsHashApart() {
        Deadline one = Deadline.after(Duration.ofSeconds(1), ticker);
        assertThat(one.hashCode()).isNotEqualTo(Deadline.after(Duration.ofSeconds(2), ticker).hashCode());
    }

    @Test
    void aTimeoutBeyondTheCounterSaturatesInsteadOfWrapping() {
        // 400 years do not fit in a long of nanoseconds: far in the future, and far in the past once subtracted
        Duration centuries = Duration.ofDays(400 * 365);
        Deadline farAway = Deadline.after(centuries, ticker);
        assertThat(farAway.remaining()).isEqualTo(Duration.ofNanos(Long.MAX_VALUE / 2));
        assertThat(farAway.isExpired()).isFalse();
        Deadline longAgo = Deadline.after(Duration.ofSeconds(1), ticker).minus(centuries);
        assertThat(longAgo.remaining()).isEqualTo(Duration.ofNanos(1_000_000_000L - Long.MAX_VALUE / 2));
        assertThat(longAgo.isExpired()).isTrue();
        assertThat(Deadline.after(centuries.negated(), ticker).remaining()).isEqualTo(Duration.ofNanos(Long.MIN_VALUE / 2));
    }

    @Test
    void saysHowMuchTimeIsLeft() {
        assertThat(Deadline.after(Duration.ofMillis(1500), ticker)).hasToString("Deadline[PT1.5S left]");
    }
}
