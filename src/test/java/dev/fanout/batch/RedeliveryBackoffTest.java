package dev.fanout.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.random.RandomGenerator;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import dev.fanout.batch.RedeliveryBackoff.Delay;
import dev.fanout.batch.RedeliveryBackoff.Fault;
import dev.fanout.batch.RedeliveryBackoff.Jitter;
import dev.fanout.batch.RedeliveryBackoff.Reason;
import dev.fanout.batch.RedeliveryBackoff.Settings;
import dev.fanout.engine.Cancellation;
import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.Outcome;

class RedeliveryBackoffTest {

    static final Outcome.Timing TIMING = new Outcome.Timing(Instant.EPOCH, Duration.ofMillis(5));
    static final Settings FULL = new Settings(Duration.ofSeconds(10), Duration.ofMinutes(15), Duration.ofSeconds(2),
            Jitter.FULL);

    /** A random source that answers each bounded draw with the top, the bottom or the middle of its range. */
    static final class Pick implements RandomGenerator {
        enum Where { TOP, BOTTOM, MIDDLE }

        final Where where;
        final List<long[]> ranges = new ArrayList<>();

        Pick(Where where) {
            this.where = where;
        }

        @Override
        public long nextLong() {
            throw new AssertionError("only bounded draws are expected");
        }

        @Override
        public long nextLong(long origin, long bound) {
            ranges.add(new long[] { origin, bound });
            return switch (where) {
                case TOP -> bound - 1;
                case BOTTOM -> origin;
                case MIDDLE -> origin + (bound - 1 - origin) / 2;
            };
        }
    }

    static RedeliveryBackoff backoff(Settings settings, Pick pick) {
        return new RedeliveryBackoff(settings, () -> pick);
    }

    static Outcome<Object> failed() {
        return new Outcome.Failed<>(new IllegalStateException("down"), true, TIMING);
    }

    static Outcome<Object> failedAsking(Duration wait) {
        return new Outcome.Failed<>(new IllegalStateException("busy"), true, TIMING, Optional.of(wait));
    }

    @Nested
    class FullJitter {

        @Test
        void theCeilingDoublesPerReceiveUpToTheMax() {
            var top = new Pick(Pick.Where.TOP);
            var backoff = backoff(FULL, top);
            List<Long> seconds = new ArrayList<>();
            for (int n = 1; n <= 9; n++) {
                seconds.add(backoff.delayOf(failed(), n).delay().toSeconds());
            }
            assertThat(seconds).containsExactly(10L, 20L, 40L, 80L, 160L, 320L, 640L, 900L, 900L);
            assertThat(top.ranges.getFirst()).containsExactly(0, 11);
        }

        @Test
        void theDrawStartsAtZero() {
            assertThat(backoff(FULL, new Pick(Pick.Where.BOTTOM)).delayOf(failed(), 4))
                    .isEqualTo(new Delay(Duration.ZERO, Reason.BACKOFF, Set.of()));
            assertThat(backoff(FULL, new Pick(Pick.Where.MIDDLE)).delayOf(failed(), 4).delay())
                    .isEqualTo(Duration.ofSeconds(40));
        }

        @Test
        void aHugeReceiveCountStaysAtTheMax() {
            assertThat(backoff(FULL, new Pick(Pick.Where.TOP)).delayOf(failed(), Integer.MAX_VALUE).delay())
                    .isEqualTo(Duration.ofMinutes(15));
        }

        @Test
        void aZeroBaseNeverDelaysAFailure() {
            var zero = new Settings(Duration.ZERO, Duration.ofMinutes(1), Duration.ZERO, Jitter.FULL);
            assertThat(backoff(zero, new Pick(Pick.Where.TOP)).delayOf(failed(), Integer.MAX_VALUE).delay())
                    .isEqualTo(Duration.ZERO);
        }

        @Test
        void theDefaultRandomSourceDrawsWithinTheCeiling() {
            var backoff = new RedeliveryBackoff(FULL);
            var seen = new java.util.HashSet<Long>();
            for (int i = 0; i < 500; i++) {
                long s = backoff.delayOf(failed(), 2).delay().toSeconds();
                assertThat(s).isBetween(0L, 20L);
                seen.add(s);
            }
            // 500 draws of 21 values: one is missing with a chance below 21 × (20/21)^500 ≈ 6e-10
            assertThat(seen).hasSize(21);
        }
    }

    @Nested
    class DecorrelatedJitter {

        final Settings decorrelated = new Settings(Duration.ofSeconds(10), Duration.ofMinutes(15), Duration.ofSeconds(2),
                Jitter.DECORRELATED);

        @Test
        void drawsFromTheBaseToThreeTimesThePreviousCeiling() {
            var top = new Pick(Pick.Where.TOP);
            var backoff = backoff(decorrelated, top);
            List<Long> seconds = new ArrayList<>();
            for (int n = 1; n <= 8; n++) {
                seconds.add(backoff.delayOf(failed(), n).delay().toSeconds());
            }
            assertThat(seconds).containsExactly(30L, 30L, 60L, 120L, 240L, 480L, 900L, 900L);
            assertThat(backoff(decorrelated, new Pick(Pick.Where.BOTTOM)).delayOf(failed(), 7).delay())
                    .isEqualTo(Duration.ofSeconds(10));
            assertThat(top.ranges.getFirst()).containsExactly(10, 31);
        }
    }

    @Nested
    class WhatARecordGets {

        final RedeliveryBackoff top = backoff(FULL, new Pick(Pick.Where.TOP));

        @Test
        void aRecordThatDidNotFailComesBackAfterTheShortFixedDelay() {
            Delay unfinished = new Delay(Duration.ofSeconds(2), Reason.UNFINISHED, Set.of());
            assertThat(top.delayOf(new Outcome.TimedOut<>(Cancellation.Cause.CUT_OFF, TIMING), 5)).isEqualTo(unfinished);
            assertThat(top.delayOf(new Outcome.NotStarted<>(Outcome.NotStarted.Reason.CUT_OFF,
                    java.util.OptionalInt.empty()), 5)).isEqualTo(unfinished);
            assertThat(top.delayOf(null, 5)).isEqualTo(unfinished);
            // done, but its result was not confirmed
            assertThat(top.delayOf(new Outcome.Succeeded<>("x", TIMING), 5)).isEqualTo(unfinished);
            assertThat(top.delayOf(new Outcome.Failed<>(new NonRetryableException("gone"), false, TIMING), 5))
                    .isEqualTo(unfinished);
        }

        @Test
        void anItemCancelledAtItsOwnTimeoutBacksOffLikeAFailure() {
            assertThat(top.delayOf(new Outcome.TimedOut<>(Cancellation.Cause.ITEM_TIMEOUT, TIMING), 3))
                    .isEqualTo(new Delay(Duration.ofSeconds(40), Reason.BACKOFF, Set.of()));
        }

        @Test
        void theLargerOfTheBackoffAndTheFailuresOwnWaitWins() {
            assertThat(top.delayOf(failedAsking(Duration.ofSeconds(120)), 1))
                    .isEqualTo(new Delay(Duration.ofSeconds(120), Reason.ASKED, Set.of()));
            assertThat(top.delayOf(failedAsking(Duration.ofSeconds(5)), 3))
                    .isEqualTo(new Delay(Duration.ofSeconds(40), Reason.BACKOFF, Set.of()));
        }

        @Test
        void aWaitIsRoundedUpToWholeSeconds() {
            assertThat(top.delayOf(failedAsking(Duration.ofMillis(60_001)), 1).delay()).isEqualTo(Duration.ofSeconds(61));
        }

        @Test
        void aWaitBeyondTheMaxIsCappedAndCounted() {
            assertThat(top.delayOf(failedAsking(Duration.ofDays(400)), 1))
                    .isEqualTo(new Delay(Duration.ofMinutes(15), Reason.ASKED, Set.of(Fault.RETRY_AFTER_OVER_MAX)));
        }

        @Test
        void aWaitOfExactlyTheMaxIsNoFault() {
            assertThat(top.delayOf(failedAsking(Duration.ofMinutes(15)), 1))
                    .isEqualTo(new Delay(Duration.ofMinutes(15), Reason.ASKED, Set.of()));
        }

        @Test
        void aNegativeWaitIsIgnoredAndCounted() {
            assertThat(top.delayOf(failedAsking(Duration.ofSeconds(-30)), 2))
                    .isEqualTo(new Delay(Duration.ofSeconds(20), Reason.BACKOFF, Set.of(Fault.NEGATIVE_RETRY_AFTER)));
        }

        @Test
        void aWaitThatCouldNotBeReadIsCountedAndTheBackoffApplies() {
            class Unreadable extends RuntimeException implements dev.fanout.engine.RetryAfter {
                final String text;

                Unreadable(String text) {
                    super("HTTP 503");
                    this.text = text;
                }

                @Override
                public Optional<Duration> retryAfter() {
                    return Optional.empty();
                }

                @Override
                public Optional<String> unreadableRetryAfter() {
                    return Optional.ofNullable(text);
                }
            }
            assertThat(top.delayOf(new Outcome.Failed<>(new Unreadable("soon"), true, TIMING), 2))
                    .isEqualTo(new Delay(Duration.ofSeconds(20), Reason.BACKOFF, Set.of(Fault.UNREADABLE_RETRY_AFTER)));
            assertThat(top.delayOf(new Outcome.Failed<>(new Unreadable(null), true, TIMING), 2).faults()).isEmpty();
            // a wait given as a Duration is never unreadable
            assertThat(top.delayOf(new Outcome.Failed<>(new dev.fanout.engine.RetryLaterException(Duration.ofSeconds(5),
                    "busy"), true, TIMING, Optional.of(Duration.ofSeconds(5))), 2).faults()).isEmpty();
        }

        @Test
        void aRecordWithoutAReceiveCountIsTakenAsTheFirstDelivery() {
            assertThat(top.delayOf(failed(), null))
                    .isEqualTo(new Delay(Duration.ofSeconds(10), Reason.BACKOFF, Set.of(Fault.NO_RECEIVE_COUNT)));
            assertThat(top.delayOf(failed(), 0).faults()).containsExactly(Fault.NO_RECEIVE_COUNT);
            assertThat(top.delayOf(failed(), -4).delay()).isEqualTo(Duration.ofSeconds(10));
        }
    }

    @Nested
    class Batches {

        @Test
        void onlyHandedBackRecordsGetADelay() {
            var backoff = backoff(FULL, new Pick(Pick.Where.TOP));
            List<Outcome<Object>> outcomes = List.of(new Outcome.Succeeded<>("ok", TIMING), failed(), failed());
            Delay[] delays = backoff.delays(3, new boolean[] { true, false, false }, outcomes::get, i -> 2 + i, i -> null);
            assertThat(delays[0]).isNull();
            assertThat(delays[1].delay()).isEqualTo(Duration.ofSeconds(40));
            assertThat(delays[2].delay()).isEqualTo(Duration.ofSeconds(80));
        }

        @Test
        void aFifoGroupComesBackTogetherWithItsFirstHandedBackRecord() {
            var backoff = backoff(FULL, new Pick(Pick.Where.TOP));
            List<Outcome<Object>> outcomes = List.of(new Outcome.Succeeded<>("ok", TIMING), failed(),
                    new Outcome.NotStarted<>(Outcome.NotStarted.Reason.GROUP_HALTED, java.util.OptionalInt.of(1)),
                    new Outcome.Succeeded<>("ok", TIMING), failedAsking(Duration.ofSeconds(300)));
            List<String> groups = List.of("a", "a", "a", "b", "b");
            Delay[] delays = backoff.delays(5, new boolean[] { true, false, false, true, false }, outcomes::get,
                    i -> 3, groups::get);
            assertThat(delays[1]).isEqualTo(new Delay(Duration.ofSeconds(40), Reason.BACKOFF, Set.of()));
            assertThat(delays[2]).isEqualTo(new Delay(Duration.ofSeconds(40), Reason.HELD_BEHIND, Set.of()));
            assertThat(delays[4]).isEqualTo(new Delay(Duration.ofSeconds(300), Reason.ASKED, Set.of()));
        }
    }

    @Nested
    class SettingsChecks {

        @Test
        void refusesAMaxBeyondSqsLimit() {
            assertThatThrownBy(() -> new Settings(Duration.ofSeconds(1), Duration.ofHours(12).plusSeconds(1),
                    Duration.ZERO, Jitter.FULL)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("the max delay must be at most SQS's 12 h visibility limit, was PT12H1S");
            assertThat(new Settings(Duration.ofSeconds(1), Duration.ofHours(12), Duration.ZERO, Jitter.FULL).max())
                    .isEqualTo(Duration.ofHours(12));
        }

        @Test
        void refusesPartsOfSecondsNegativesAndABaseOverTheMax() {
            assertThatThrownBy(() -> new Settings(Duration.ofMillis(1500), Duration.ofMinutes(1), Duration.ZERO,
                    Jitter.FULL)).hasMessage("the base delay must be whole seconds, not negative (SQS's visibility"
                            + " timeout is in seconds), was PT1.5S");
            assertThatThrownBy(() -> new Settings(Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ofSeconds(-1),
                    Jitter.FULL)).hasMessageStartingWith("the unfinished delay must be whole seconds");
            assertThatThrownBy(() -> new Settings(Duration.ofMinutes(2), Duration.ofMinutes(1), Duration.ZERO,
                    Jitter.FULL)).hasMessage("the base delay PT2M exceeds the max delay PT1M");
            assertThatThrownBy(() -> new Settings(Duration.ZERO, Duration.ofMinutes(1), Duration.ofMinutes(2),
                    Jitter.FULL)).hasMessage("the unfinished delay PT2M exceeds the max delay PT1M");
        }
    }
}
