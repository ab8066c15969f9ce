package dev.fanout.work.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import com.netflix.concurrency.limits.limit.AIMDLimit;
import com.netflix.concurrency.limits.limit.VegasLimit;

/**
 * The growth and fall of a limit, sample by sample, on a clock of the test's own: each request's start and round
 * trip are given, nothing sleeps. A round trip here is {@link #RTT}: every request of one starts at the same time, with
 * all of them in flight (as when each answer lets the next request go), and they all end together.
 */
class RoundTripWindowTest {

    static final long RTT = TimeUnit.MILLISECONDS.toNanos(20);
    static final long TIMEOUT = TimeUnit.MILLISECONDS.toNanos(100);

    static RoundTripWindow aimd(int initial, int min, int max) {
        return RoundTripWindow.restartable(
                start -> AIMDLimit.newBuilder().initialLimit(start).minLimit(min).maxLimit(max).build(), initial, min,
                max, ServiceLimit.WINDOW_SAMPLES);
    }

    /** A fake clock: the start of the next round trip. */
    long now = 1_000_000_000L;

    enum Answer { GOOD, DROPPED, TIMED_OUT }

    /** {@code n} requests sent at once (each with n in flight), each answered as {@code answer} after a round trip. */
    void roundTrip(RoundTripWindow limit, int n, Answer answer) {
        long rtt = answer == Answer.TIMED_OUT ? TIMEOUT : RTT;
        for (int k = 1; k <= n; k++) {
            switch (answer) {
                case GOOD -> limit.onSample(now, rtt, n, false);
                case DROPPED -> limit.onSample(now, rtt, n, true);
                case TIMED_OUT -> limit.onTimeout(now, rtt, n);
            }
        }
        now += rtt;
    }

    /** A round trip that fills the limit, every request answered as {@code answer}. */
    void fullRoundTrip(RoundTripWindow limit, Answer answer) {
        roundTrip(limit, limit.getLimit(), answer);
    }

    @Nested
    class SlowStart {

        @Test
        void theLimitDoublesEveryRoundTripUntilTheMaximum() {
            RoundTripWindow limit = aimd(20, 2, 1000);
            List<Integer> limits = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                fullRoundTrip(limit, Answer.GOOD);
                limits.add(limit.getLimit());
            }
            assertThat(limits).containsExactly(40, 80, 160, 320, 640, 1000, 1000);
            assertThat(limit.inSlowStart()).isTrue(); // no drop: it stays there, at the maximum
        }

        @Test
        void aRoundTripThatUsedLessThanHalfTheLimitDoesNotGrowIt() {
            RoundTripWindow limit = aimd(100, 2, 1000);
            roundTrip(limit, 49, Answer.GOOD);
            assertThat(limit.getLimit()).isEqualTo(100);
            // sent with half the limit in flight: + 1, then 101 is more than twice the 50 in flight
            roundTrip(limit, 50, Answer.GOOD);
            assertThat(limit.getLimit()).isEqualTo(101);
        }

        @Test
        void anAnswerCountsByTheLimitOfTheMomentItsRequestWasSentNotOfItsAnswer() {
            RoundTripWindow limit = aimd(20, 2, 1000);
            // 20 requests sent with 12 in flight and a limit of 20: the limit held them back
            for (int i = 0; i < 20; i++) {
                limit.onAnswer(now, RTT, 12, 20, false, false);
            }
            assertThat(limit.getLimit()).isEqualTo(40); // by the limit of each answer, it would stop at 25
            limit.onAnswer(now, RTT, 12, 40, false, false); // sent with 12 of 40 in flight: not held back
            assertThat(limit.getLimit()).isEqualTo(40);
        }

        @Test
        void theFirstDropEndsItAndAimdTakesItFromTheLimitReached() {
            RoundTripWindow limit = aimd(20, 2, 1000);
            fullRoundTrip(limit, Answer.GOOD);
            fullRoundTrip(limit, Answer.GOOD); // 80
            limit.onSample(now, RTT, 80, true);
            assertThat(limit.inSlowStart()).isFalse();
            assertThat(limit.getLimit()).isEqualTo(72); // 80 x 0.9
        }
    }

    @Nested
    class AfterTheSlowStart {

        RoundTripWindow at72() {
            RoundTripWindow limit = aimd(20, 2, 1000);
            fullRoundTrip(limit, Answer.GOOD);
            fullRoundTrip(limit, Answer.GOOD);
            limit.onSample(now, RTT, 80, true);
            now += RTT;
            return limit;
        }

        @Test
        void oneSamplePerRoundTripAddsOneAndABurstOfDropsTakesTenPercentOncePerRoundTrip() {
            RoundTripWindow limit = at72();
            List<Integer> limits = new ArrayList<>();
            // a window closes at the first answer of the next round trip, which counts in it
            for (Answer answer : List.of(Answer.GOOD, Answer.GOOD, Answer.DROPPED, Answer.GOOD, Answer.GOOD)) {
                fullRoundTrip(limit, answer);
                limits.add(limit.getLimit());
            }
            // a burst of 73 drops: one decrease in each of the two windows it fell in (fed per answer, AIMD would
            // have gone to its minimum)
            assertThat(limits).containsExactly(72, 73, 65, 58, 59);
        }

        @Test
        void aRoundTripOfNothingButTimeoutsBringsTheLimitToItsMinimumAtOnce() {
            RoundTripWindow limit = at72();
            fullRoundTrip(limit, Answer.TIMED_OUT);
            assertThat(limit.getLimit()).isEqualTo(72); // its window is still open
            limit.onTimeout(now, TIMEOUT, 1); // the next round trip's first timeout closes it
            assertThat(limit.getLimit()).isEqualTo(2);
            assertThat(limit.inSlowStart()).isTrue();
        }

        @Test
        void aRoundTripWithOneAnswerAmongTheTimeoutsIsOneDropOfTenPercent() {
            RoundTripWindow limit = at72();
            roundTrip(limit, 71, Answer.TIMED_OUT);
            limit.onSample(now - TIMEOUT, RTT, 72, true); // a 429 among them, in the same round trip
            limit.onTimeout(now, TIMEOUT, 1);
            assertThat(limit.getLimit()).isEqualTo(64); // 72 x 0.9
            assertThat(limit.inSlowStart()).isFalse();
        }

        @Test
        void afterTheFallTimeoutsKeepItAtTheMinimumAndAnswersBringItBackBySlowStartToHalfWhereItFell() {
            RoundTripWindow limit = at72();
            fullRoundTrip(limit, Answer.TIMED_OUT);
            fullRoundTrip(limit, Answer.TIMED_OUT);
            assertThat(limit.getLimit()).isEqualTo(2);
            for (int i = 0; i < 50; i++) { // the service still hangs: probed two at a time
                fullRoundTrip(limit, Answer.TIMED_OUT);
            }
            assertThat(limit.getLimit()).isEqualTo(2);
            assertThat(limit.inSlowStart()).isTrue();

            List<Integer> limits = new ArrayList<>();
            for (int i = 0; i < 7; i++) { // it answers again
                fullRoundTrip(limit, Answer.GOOD);
                limits.add(limit.getLimit());
            }
            // doubles up to 36, half of 72, then AIMD: + 1 per round trip
            assertThat(limits).containsExactly(4, 8, 16, 32, 36, 37, 38);
            assertThat(limit.inSlowStart()).isFalse();
        }
    }

    @Test
    void aLimitThatLearnsLatenciesIsFedEachAnswerUntilTheFirstDropAndNeverFallsOnTimeoutsAlone() {
        RoundTripWindow limit = RoundTripWindow.over(VegasLimit.newBuilder().initialLimit(20).maxConcurrency(100)
                .build(), ServiceLimit.WINDOW_SAMPLES);
        fullRoundTrip(limit, Answer.GOOD);
        assertThat(limit.getLimit()).isGreaterThan(20); // Vegas's own rule, answer by answer
        assertThat(limit.inSlowStart()).isTrue();
        limit.onTimeout(now, TIMEOUT, 1);
        assertThat(limit.inSlowStart()).isFalse();
        int afterDrop = limit.getLimit();
        fullRoundTrip(limit, Answer.TIMED_OUT);
        fullRoundTrip(limit, Answer.TIMED_OUT);
        assertThat(limit.getLimit()).isGreaterThan(2).isLessThan(afterDrop); // Vegas's decreases, no fall to a minimum
    }
}
