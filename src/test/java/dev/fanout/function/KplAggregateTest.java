package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * KPL aggregates built byte by byte after amazon-kinesis-producer's aggregation-format.md: magic number
 * {@code F3 89 9A C2}, the protobuf {@code AggregatedRecord} (proto2: partition_key_table = 1, records = 3; a
 * Record's partition_key_index = 1, data = 3), the MD5 of the protobuf bytes.
 */
class KplAggregateTest {

    static final HexFormat HEX = HexFormat.of();

    /**
     * Partition keys "a" and "b"; records (0, "x") and (1, "yz"). Written out by hand from the format:
     * tag (field << 3 | wire type), then a varint or a length and the bytes.
     */
    static final String PROTOBUF_HEX = "0a0161" // partition_key_table: field 1, wire type 2, length 1, "a"
            + "0a0162" // partition_key_table: "b"
            + "1a05" + "0800" + "1a0178" // records: field 3, length 5 { partition_key_index 0, data (field 3) "x" }
            + "1a06" + "0801" + "1a02797a"; // records: length 6 { partition_key_index 1, data "yz" }
    /** MD5 of those 21 bytes, computed apart from this code (Python's hashlib). */
    static final String MD5_HEX = "6fe1bc1407aabc41e3e0c88f3f668baf";

    static byte[] tiny() {
        return HEX.parseHex("f3899ac2" + PROTOBUF_HEX + MD5_HEX);
    }

    /** A user record for {@link #aggregate}: its index in the key table and its data. */
    record User(long keyIndex, byte[] data) {
        static User of(long keyIndex, String data) {
            return new User(keyIndex, data.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** An aggregate as the KPL writes one: magic, protobuf, MD5. */
    static byte[] aggregate(List<String> keys, List<User> users) {
        return wrap(protobuf(keys, users));
    }

    static byte[] protobuf(List<String> keys, List<User> users) {
        var message = new ByteArrayOutputStream();
        for (String key : keys) {
            field(message, 1, key.getBytes(StandardCharsets.UTF_8));
        }
        for (User user : users) {
            var record = new ByteArrayOutputStream();
            varint(record, 1 << 3);
            varint(record, user.keyIndex());
            field(record, 3, user.data());
            field(message, 3, record.toByteArray());
        }
        return message.toByteArray();
    }

    static byte[] wrap(byte[] protobuf) {
        var out = new ByteArrayOutputStream();
        out.writeBytes(KplAggregate.MAGIC);
        out.writeBytes(protobuf);
        out.writeBytes(md5(protobuf));
        return out.toByteArray();
    }

    static void field(ByteArrayOutputStream out, int number, byte[] bytes) {
        varint(out, number << 3 | 2);
        varint(out, bytes.length);
        out.writeBytes(bytes);
    }

    static void varint(ByteArrayOutputStream out, long value) {
        while ((value & ~0x7FL) != 0) {
            out.write((int) (value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out.write((int) value);
    }

    static byte[] md5(byte[] bytes) {
        try {
            return MessageDigest.getInstance("MD5").digest(bytes);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static KplAggregate.Unpacked unpacked(byte[] data) {
        return (KplAggregate.Unpacked) KplAggregate.read(data);
    }

    static String text(KplAggregate.UserRecord user) {
        return new String(user.data(), StandardCharsets.UTF_8);
    }

    @Nested
    class Reads {

        @Test
        void theHandWrittenAggregateGivesItsTwoUserRecordsWithTheirKeys() {
            var records = unpacked(tiny()).records();

            assertThat(records).hasSize(2);
            assertThat(records.get(0).partitionKey()).isEqualTo("a");
            assertThat(text(records.get(0))).isEqualTo("x");
            assertThat(records.get(1).partitionKey()).isEqualTo("b");
            assertThat(text(records.get(1))).isEqualTo("yz");
            assertThat(records).allSatisfy(r -> assertThat(r.problem()).isNull());
        }

        @Test
        void theTestsBuilderWritesExactlyTheHandWrittenBytes() {
            // so the larger aggregates the builder makes follow the format too
            assertThat(HEX.formatHex(aggregate(List.of("a", "b"), List.of(User.of(0, "x"), User.of(1, "yz")))))
                    .isEqualTo(HEX.formatHex(tiny()));
            assertThat(HEX.formatHex(md5(HEX.parseHex(PROTOBUF_HEX)))).isEqualTo(MD5_HEX);
        }

        @Test
        void multiByteVarintsForLongDataAndLargeKeyIndexes() {
            List<String> keys = java.util.stream.IntStream.range(0, 300).mapToObj(i -> "key-" + i).toList();
            String big = "d".repeat(20_000); // a length of three varint bytes
            var records = unpacked(aggregate(keys, List.of(User.of(299, big), User.of(128, "{}")))).records();

            assertThat(records.get(0).partitionKey()).isEqualTo("key-299");
            assertThat(text(records.get(0))).isEqualTo(big);
            assertThat(records.get(1).partitionKey()).isEqualTo("key-128");
        }

        @Test
        void fieldsTheReaderDoesNotUseAreSkippedWhateverTheirWireType() {
            var message = new ByteArrayOutputStream();
            field(message, 1, "a".getBytes(StandardCharsets.UTF_8));
            field(message, 2, "170141183460469231731687303715884105728".getBytes(StandardCharsets.UTF_8)); // hash key table
            var record = new ByteArrayOutputStream();
            varint(record, 2 << 3); // explicit_hash_key_index 0
            varint(record, 0);
            varint(record, 1 << 3);
            varint(record, 0);
            field(record, 3, "x".getBytes(StandardCharsets.UTF_8));
            var tag = new ByteArrayOutputStream();
            field(tag, 1, "k".getBytes(StandardCharsets.UTF_8));
            field(record, 4, tag.toByteArray()); // tags
            varint(record, 9 << 3 | 1); // a fixed64 of a later version
            record.writeBytes(new byte[8]);
            varint(record, 10 << 3 | 5); // a fixed32
            record.writeBytes(new byte[4]);
            field(message, 3, record.toByteArray());

            var records = unpacked(wrap(message.toByteArray())).records();

            assertThat(records).hasSize(1);
            assertThat(records.get(0).partitionKey()).isEqualTo("a");
            assertThat(text(records.get(0))).isEqualTo("x");
        }

        @Test
        void dataWithoutTheMagicNumberIsOneItem() {
            assertThat(KplAggregate.read("{\"type\":\"echo\"}".getBytes(StandardCharsets.UTF_8)))
                    .isInstanceOf(KplAggregate.Plain.class);
            assertThat(KplAggregate.read(new byte[0])).isInstanceOf(KplAggregate.Plain.class);
            assertThat(KplAggregate.read(HEX.parseHex("f3899a"))).isInstanceOf(KplAggregate.Plain.class);
        }
    }

    @Nested
    class BadAggregates {

        static String reason(byte[] data) {
            return ((KplAggregate.Bad) KplAggregate.read(data)).reason();
        }

        @Test
        void aChecksumThatDoesNotMatch() {
            byte[] data = tiny();
            data[10] ^= 1;
            assertThat(reason(data))
                    .isEqualTo("KPL aggregate's MD5 checksum does not match its content (truncated or corrupted)");
        }

        @Test
        void aTruncatedAggregateFailsItsChecksum() {
            byte[] data = tiny();
            assertThat(reason(Arrays.copyOf(data, data.length - 3)))
                    .isEqualTo("KPL aggregate's MD5 checksum does not match its content (truncated or corrupted)");
        }

        @Test
        void tooShortForMagicAndChecksum() {
            assertThat(reason(HEX.parseHex("f3899ac2" + "00".repeat(15))))
                    .isEqualTo("KPL aggregate of 19 bytes is shorter than its magic number and checksum");
        }

        @Test
        void aProtobufThatEndsInsideAFieldWithAMatchingChecksum() {
            byte[] protobuf = HEX.parseHex(PROTOBUF_HEX);
            // the last record (tag and length at bytes 13 and 14) says 6 bytes and 4 are left: a producer that cut
            // it and summed what it cut
            assertThat(reason(wrap(Arrays.copyOf(protobuf, protobuf.length - 2))))
                    .isEqualTo("KPL aggregate is not a readable AggregatedRecord: it ends inside a field, at byte 15");
            // a data field inside a record that claims more bytes than its record holds
            assertThat(reason(wrap(HEX.parseHex("0a0161" + "1a05" + "0800" + "1a0578")))).isEqualTo(
                    "KPL aggregate is not a readable AggregatedRecord: it ends inside a field, at byte 9 (inside a record)");
        }

        @Test
        void aGroupWireTypeAnEndlessVarintAndNoRecords() {
            assertThat(reason(wrap(HEX.parseHex("0a0161" + "0b"))))
                    .isEqualTo("KPL aggregate is not a readable AggregatedRecord: field 1 has wire type 3 "
                            + "(groups are not part of the format) at byte 4");
            assertThat(reason(wrap(HEX.parseHex("08" + "ff".repeat(10) + "01"))))
                    .isEqualTo("KPL aggregate is not a readable AggregatedRecord: a varint longer than 10 bytes at byte 11");
            assertThat(reason(wrap(HEX.parseHex("0a0161"))))
                    .isEqualTo("KPL aggregate is not a readable AggregatedRecord: it holds no records");
            assertThat(reason(wrap(HEX.parseHex("0a01ff" + "1a0508001a0178"))))
                    .isEqualTo("KPL aggregate is not a readable AggregatedRecord: a partition key that is not UTF-8 at byte 1");
        }

        @Test
        void aUserRecordWithAKeyIndexOutsideTheTableOrNoDataIsRejectedAloneItsNeighboursAreRead() {
            var records = unpacked(wrap(HEX.parseHex("0a0161" + "1a05" + "0805" + "1a0178" + "1a02" + "0800"
                    + "1a05" + "0800" + "1a0179"))).records();

            assertThat(records).hasSize(3);
            assertThat(records.get(0).problem())
                    .isEqualTo("user record's partition_key_index 5 is outside the aggregate's 1 partition keys");
            assertThat(records.get(1).problem()).isEqualTo("user record has no data");
            assertThat(records.get(2).problem()).isNull();
            assertThat(text(records.get(2))).isEqualTo("y");
        }
    }
}
