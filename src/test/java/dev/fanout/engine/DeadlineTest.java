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
}
