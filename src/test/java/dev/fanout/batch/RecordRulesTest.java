package dev.fanout.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;

import org.junit.jupiter.api.Test;

import dev.fanout.engine.Cancellation.Cause;
import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.Outcome.Timing;

/** What a record's outcome means for its queue: which are final, which are acknowledged, in what order results go. */
class RecordRulesTest {

    static final Timing TIMING = new Timing(Instant.EPOCH, Duration.ofMillis(1));

    @Test
    void succeededRejectedAndPermanentFailuresAreFinalTheRestComeBack() {
        assertThat(RecordRules.isFinal(new Outcome.Succeeded<>("ok", TIMING))).isTrue();
        assertThat(RecordRules.isFinal(new Outcome.Rejected<>("not JSON", TIMING))).isTrue();
        assertThat(RecordRules.isFinal(new Outcome.Failed<>(new NonRetryableException("gone"), false, TIMING))).isTrue();
        assertThat(RecordRules.isFinal(new Outcome.Failed<>(new IllegalStateException("reset"), true, TIMING))).isFalse();
        assertThat(RecordRules.isFinal(new Outcome.TimedOut<>(Cause.CUT_OFF, TIMING))).isFalse();
        assertThat(RecordRules.isFinal(new Outcome.NotStarted<>(Outcome.NotStarted.Reason.CUT_OFF, OptionalInt.empty())))
                .isFalse();
    }

    @Test
    void aConfirmedRecordIsAcknowledgedUnlessAnEarlierRecordOfItsGroupCameBack() {
        // groups: a a b a - b -   (- for none); records 1 (group a) and 4 (no group) are not confirmed
        List<String> groups = Arrays.asList("a", "a", "b", "a", null, "b", null);
        boolean[] confirmed = { true, false, true, true, false, true, true };

        boolean[] acknowledged = RecordRules.acknowledged(groups.size(), i -> confirmed[i], groups::get);

        // a's record 3 comes back behind record 1; group b and the records without a group are untouched
        assertThat(acknowledged).containsExactly(true, false, true, false, false, true, true);
    }

    @Test
    void aGroupBrokenOnceStaysBrokenEvenWhereLaterRecordsAreConfirmed() {
        boolean[] acknowledged = RecordRules.acknowledged(4, i -> i != 0, i -> "g");

        assertThat(acknowledged).containsExactly(false, false, false, false);
    }

    @Test
    void eachResultWaitsForThePreviousResultOfItsGroup() {
        List<String> groups = Arrays.asList("a", null, "b", "a", "a", null, "b");

        assertThat(RecordRules.previousInGroup(groups.size(), groups::get)).containsExactly(-1, -1, -1, 0, 3, -1, 2);
    }
}
