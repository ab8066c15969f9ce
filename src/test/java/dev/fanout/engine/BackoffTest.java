package dev.fanout.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class BackoffTest {

    private final Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1));

    @Test
    void theCeilingDoublesPerAttemptUpToTheCap() {
        assertThat(backoff.ceilingNanos(1)).isEqualTo(100_000_000L);
        assertThat(backoff.ceilingNanos(2)).isEqualTo(200_000_000L);
        assertThat(backoff.ceilingNanos(4)).isEqualTo(800_000_000L);
        assertThat(backoff.ceilingNanos(5)).isEqualTo(1_000_000_000L);
        assertThat(backoff.ceilingNanos(1_000)).isEqualTo(1_000_000_000L);
    }

    @Test
    void thePauseIsFullJitterBetweenZeroAndTheCeiling() {
        Set<Duration> seen = new HashSet<>();
        for (int i = 0; i < 1_000; i++) {
            Duration pause = backoff.pause(2);
            assertThat(pause).isBetween(Duration.ZERO, Duration.ofMillis(200));
            seen.add(pause);
        }
        // 1,000 draws from 200,000,001 values: a repeat is a one-in-400 event; a constant would give one value
        assertThat(seen).hasSizeGreaterThan(990);
    }

    @Test
    void aZeroBaseNeverPauses() {
        assertThat(new Backoff(Duration.ZERO, Duration.ofSeconds(1)).pause(3)).isEqualTo(Duration.ZERO);
    }

    @Test
    void theCeilingItselfCanBeDrawn() {
        var oneNanosecond = new Backoff(Duration.ofNanos(1), Duration.ofNanos(1));
        Set<Duration> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            seen.add(oneNanosecond.pause(1));
        }
        // 200 draws of two values: each is missing with a chance of 2^-200
        assertThat(seen).containsExactlyInAnyOrder(Duration.ZERO, Duration.ofNanos(1));
    }

    @Test
    void aCeilingThatWouldOverflowStopsAtTheLargestDrawableOne() {
        var huge = new Backoff(Duration.ofNanos((1L << 61) - 1), Duration.ofNanos(Long.MAX_VALUE));
        // two doublings still fit; a third would overflow a long and turn the ceiling negative
        assertThat(huge.ceilingNanos(3)).isEqualTo(Long.MAX_VALUE - 3);
        assertThat(huge.ceilingNanos(4)).isEqualTo(Long.MAX_VALUE - 1);
        assertThat(huge.ceilingNanos(1_000)).isEqualTo(Long.MAX_VALUE - 1);
        assertThat(huge.pause(1_000)).isBetween(Duration.ZERO, Duration.ofNanos(Long.MAX_VALUE - 1));
        // a century's base is beyond what the cap allows after two doublings: the cap, not an overflow
        var century = new Backoff(Duration.ofDays(36_500), Duration.ofDays(73_000));
        assertThat(century.ceilingNanos(3)).isEqualTo(Duration.ofDays(73_000).toNanos());
        // a base or cap beyond a long's nanoseconds is saturated, not thrown
        assertThat(new Backoff(Duration.ofSeconds(Long.MAX_VALUE), Duration.ofSeconds(1)).ceilingNanos(1))
                .isEqualTo(1_000_000_000L);
    }

    @Test
    void aNegativeBaseOrCapIsRefused() {
        assertThatThrownBy(() -> new Backoff(Duration.ofMillis(-1), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a backoff's base and cap must not be negative, were PT-0.001S and PT1S");
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofNanos(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a backoff's base and cap must not be negative, were PT0S and PT-0.000000001S");
    }
}
