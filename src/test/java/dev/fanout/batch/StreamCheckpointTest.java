package dev.fanout.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

class StreamCheckpointTest {

    @Test
    void everyRecordDoneIsNoFailure() {
        assertThat(StreamCheckpoint.of(new boolean[] { true, true }, List.of("1", "2")))
                .isEqualTo(new StreamCheckpoint.Done());
        assertThat(StreamCheckpoint.of(new boolean[0], List.of())).isEqualTo(new StreamCheckpoint.Done());
    }

    @Test
    void theLowestSequenceNumberNotDoneByValueNotByPlaceOrText() {
        // "10" < "9" as text; the second record is the lowest by value
        assertThat(StreamCheckpoint.of(new boolean[] { false, false, true }, List.of("10", "9", "8")))
                .isEqualTo(new StreamCheckpoint.At("9"));
        String kinesis = "49590338271490256608559692538361571095921575989136588898";
        String later = "49590338271490256608559692538361571095921575989136589898";
        assertThat(StreamCheckpoint.of(new boolean[] { true, false, false }, List.of("1", later, kinesis)))
                .isEqualTo(new StreamCheckpoint.At(kinesis));
    }

    @Test
    void aRecordNotDoneWithoutASequenceNumberIsTheWholeBatch() {
        assertThat(StreamCheckpoint.of(new boolean[] { false, false }, Arrays.asList("5", null)))
                .isEqualTo(new StreamCheckpoint.WholeBatch("record 1 is not done and has no sequence number to resume at"));
        assertThat(StreamCheckpoint.of(new boolean[] { false }, List.of("12a")))
                .isEqualTo(new StreamCheckpoint.WholeBatch("record 0 is not done and has no sequence number to resume at"));
        // done, it needs no name
        assertThat(StreamCheckpoint.of(new boolean[] { true, false }, Arrays.asList(null, "7")))
                .isEqualTo(new StreamCheckpoint.At("7"));
    }

    @Test
    void sequenceNumbersAreDecimalDigits() {
        assertThat(StreamCheckpoint.isSequenceNumber("0123")).isTrue();
        assertThat(StreamCheckpoint.isSequenceNumber("1".repeat(128))).isTrue();
        assertThat(StreamCheckpoint.isSequenceNumber("1".repeat(129))).isFalse();
        assertThat(StreamCheckpoint.isSequenceNumber("")).isFalse();
        assertThat(StreamCheckpoint.isSequenceNumber(null)).isFalse();
        assertThat(StreamCheckpoint.isSequenceNumber("-1")).isFalse();
        assertThat(StreamCheckpoint.isSequenceNumber("1 ")).isFalse();
    }

    @Test
    void oneSequenceNumberPerRecord() {
        assertThatThrownBy(() -> StreamCheckpoint.of(new boolean[2], List.of("1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("2 records but 1 sequence numbers");
    }

    @Test
    void aGroupSqsCannotTakeAsAMessageGroupIdIsSentUnderItsDigest() {
        assertThat(ResultMessages.groupId("customer-1")).isEqualTo("customer-1");
        assertThat(ResultMessages.groupId("{\"pk\":\"order-1\",\"sk\":1}")).isEqualTo("{\"pk\":\"order-1\",\"sk\":1}");
        assertThat(ResultMessages.groupId("x".repeat(128))).isEqualTo("x".repeat(128));
        // the first 16 bytes of sha-256("a b") (sha256sum: c8687a08aa5d6ed2044328fa6a697ab8e96dc342...)
        assertThat(ResultMessages.groupId("a b")).isEqualTo("sha256-c8687a08aa5d6ed2044328fa6a697ab8");
        assertThat(ResultMessages.groupId("x".repeat(129))).startsWith("sha256-").hasSize(39);
        assertThat(ResultMessages.groupId("")).startsWith("sha256-");
        assertThat(ResultMessages.groupId("clé")).isNotEqualTo(ResultMessages.groupId("cle"));
    }
}
