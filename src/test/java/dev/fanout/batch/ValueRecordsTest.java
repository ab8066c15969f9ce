package dev.fanout.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Records with many flags hold immutable lists: equal by value, and nobody changes them afterwards. */
class ValueRecordsTest {

    @Test
    void anAnswerIsEqualByItsFlagsAndTheyCannotChange() {
        ObjectNode summary = new ObjectMapper().createObjectNode();
        var answer = new RecordBatch.Answer(new boolean[] { true, false }, summary, null);

        assertThat(answer).isEqualTo(new RecordBatch.Answer(List.of(true, false), summary, null))
                .hasSameHashCodeAs(new RecordBatch.Answer(new boolean[] { true, false }, summary, null))
                .isNotEqualTo(new RecordBatch.Answer(List.of(true, true), summary, null));
        assertThat(answer.isAcknowledged(0)).isTrue();
        assertThat(answer.isAcknowledged(1)).isFalse();
        boolean[] copy = answer.acknowledgedArray();
        copy[1] = true;
        assertThat(answer.acknowledged()).containsExactly(true, false);
        assertThatThrownBy(() -> answer.acknowledged().set(1, true)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void aRedeliveryReportIsEqualByItsDelaysAndFlags() {
        var delay = new RedeliveryBackoff.Delay(Duration.ofSeconds(3), RedeliveryBackoff.Reason.BACKOFF, java.util.Set.of());
        var report = Redelivery.Report.of(new RedeliveryBackoff.Delay[] { null, delay }, new boolean[] { false, true });

        assertThat(report).isEqualTo(Redelivery.Report.of(new RedeliveryBackoff.Delay[] { null, delay },
                new boolean[] { false, true }));
        assertThat(report.delays()).containsExactly(null, delay);
        assertThat(report.changed()).containsExactly(false, true);
        assertThatThrownBy(() -> report.changed().set(0, true)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> report.delays().set(0, delay)).isInstanceOf(UnsupportedOperationException.class);
    }
}
