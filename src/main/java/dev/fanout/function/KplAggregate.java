package dev.fanout.function;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a Kinesis record that the Kinesis Producer Library aggregated: the KPL packs many user records into one
 * Kinesis record, in the format of amazon-kinesis-producer's {@code aggregation-format.md}:
 *
 * <pre>
 * 0xF3 0x89 0x9A 0xC2 | protobuf AggregatedRecord | MD5 of the protobuf bytes (16 bytes)
 *
 * message AggregatedRecord { repeated string partition_key_table = 1; repeated string explicit_hash_key_table = 2;
 *                            repeated Record records = 3; }
 * message Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
 *                  required bytes data = 3; repeated Tag tags = 4; }
 * </pre>
 *
 * Lambda does not de-aggregate: the event holds the aggregate. The protobuf is read by hand (varints and
 * length-delimited fields, about 100 lines) rather than with protobuf-java and generated classes: the message is
 * two levels deep with four field kinds, and protobuf-java would add a 1.9 MB jar (4.x), its class loading on the stream
 * entry point's first invocation, and reflection metadata to the native image, for a format that has not changed
 * since 2015. Every read is bounded by the record's own length; unknown fields are skipped, as protobuf readers
 * do; a structure that does not parse, a wrong checksum (a truncated or corrupted aggregate) or a record shorter
 * than magic number and checksum is a {@link Bad} aggregate, with the reason.
 */
final class KplAggregate {

    static final byte[] MAGIC = { (byte) 0xF3, (byte) 0x89, (byte) 0x9A, (byte) 0xC2 };
    static final int DIGEST_BYTES = 16;

    /** What a Kinesis record's data holds. */
    sealed interface Content {
    }

    /** Not an aggregate (it does not start with the magic number): the data is one item. */
    record Plain() implements Content {
    }

    /** The user records, in the aggregate's order (the sub-sequence number is the index). */
    record Unpacked(List<UserRecord> records) implements Content {
    }

    /** It starts with the magic number but is not a readable aggregate. */
    record Bad(String reason) implements Content {
    }

    /**
     * One user record: its partition key from the table, or the reason it has none that the table gives (the
     * record alone is then rejected).
     */
    record UserRecord(String partitionKey, byte[] data, String problem) {
    }

    private KplAggregate() {
    }

    static Content read(ByteBuffer buffer) {
        ByteBuffer view = buffer.duplicate();
        byte[] bytes = new byte[view.remaining()];
        view.get(bytes);
        return read(bytes);
    }

    static Content read(byte[] bytes) {
        if (bytes.length < MAGIC.length || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            return new Plain();
        }
        if (bytes.length < MAGIC.length + DIGEST_BYTES) {
            return new Bad("KPL aggregate of " + bytes.length + " bytes is shorter than its magic number and checksum");
        }
        int end = bytes.length - DIGEST_BYTES;
        byte[] digest = md5(bytes, MAGIC.length, end - MAGIC.length);
        if (!Arrays.equals(digest, 0, DIGEST_BYTES, bytes, end, bytes.length)) {
            return new Bad("KPL aggregate's MD5 checksum does not match its content (truncated or corrupted)");
        }
        try {
            return unpack(new Reader(bytes, MAGIC.length, end));
        } catch (Malformed e) {
            return new Bad("KPL aggregate is not a readable AggregatedRecord: " + e.getMessage());
        }
    }

    private static Unpacked unpack(Reader message) throws Malformed {
        List<String> partitionKeys = new ArrayList<>();
        List<Reader> records = new ArrayList<>();
        while (message.more()) {
            long tag = message.varint();
            int field = (int) (tag >>> 3);
            int wireType = (int) (tag & 7);
            if (field == 1 && wireType == 2) {
                partitionKeys.add(message.string());
            } else if (field == 3 && wireType == 2) {
                records.add(message.embedded());
            } else {
                message.skip(wireType, field); // explicit_hash_key_table (2), and fields of later versions
            }
        }
        if (records.isEmpty()) {
            throw new Malformed("it holds no records");
        }
        List<UserRecord> users = new ArrayList<>(records.size());
        for (Reader record : records) {
            users.add(userRecord(record, partitionKeys));
        }
        return new Unpacked(List.copyOf(users));
    }

    private static UserRecord userRecord(Reader record, List<String> partitionKeys) throws Malformed {
        long keyIndex = -1;
        byte[] data = null;
        while (record.more()) {
            long tag = record.varint();
            int field = (int) (tag >>> 3);
            int wireType = (int) (tag & 7);
            if (field == 1 && wireType == 0) {
                keyIndex = record.varint();
            } else if (field == 3 && wireType == 2) {
                data = record.bytes();
            } else {
                record.skip(wireType, field); // explicit_hash_key_index (2), tags (4)
            }
        }
        if (data == null) {
            return new UserRecord(null, new byte[0], "user record has no data");
        }
        if (keyIndex < 0) {
            return new UserRecord(null, data, "user record has no partition_key_index");
        }
        if (keyIndex >= partitionKeys.size()) {
            return new UserRecord(null, data, "user record's partition_key_index " + Long.toUnsignedString(keyIndex)
                    + " is outside the aggregate's " + partitionKeys.size() + " partition keys");
        }
        return new UserRecord(partitionKeys.get((int) keyIndex), data, null);
    }

    private static byte[] md5(byte[] bytes, int offset, int length) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            md5.update(bytes, offset, length);
            return md5.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has MD5", e);
        }
    }

    /** Why the protobuf does not parse. */
    private static final class Malformed extends Exception {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    /** Protobuf's wire format over bytes [position, end): varints and length-delimited fields, bounded. */
    private static final class Reader {
        private final byte[] bytes;
        private final int start;
        private final int end;
        private int position;

        Reader(byte[] bytes, int from, int end) {
            this.bytes = bytes;
            this.start = from;
            this.position = from;
            this.end = end;
        }

        boolean more() {
            return position < end;
        }

        long varint() throws Malformed {
            long value = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (position >= end) {
                    throw truncated();
                }
                byte b = bytes[position++];
                value |= (long) (b & 0x7F) << shift;
                if (b >= 0) {
                    return value;
                }
            }
            throw new Malformed("a varint longer than 10 bytes at byte " + (position - MAGIC.length));
        }

        Reader embedded() throws Malformed {
            int length = length();
            Reader inner = new Reader(bytes, position, position + length);
            position += length;
            return inner;
        }

        byte[] bytes() throws Malformed {
            int length = length();
            byte[] out = Arrays.copyOfRange(bytes, position, position + length);
            position += length;
            return out;
        }

        String string() throws Malformed {
            int at = position;
            byte[] utf8 = bytes();
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(utf8)).toString();
            } catch (CharacterCodingException e) {
                throw new Malformed("a partition key that is not UTF-8 at byte " + (at - MAGIC.length));
            }
        }

        void skip(int wireType, int field) throws Malformed {
            switch (wireType) {
                case 0 -> varint();
                case 1 -> advance(8);
                case 2 -> advance(length());
                case 5 -> advance(4);
                default -> throw new Malformed("field " + field + " has wire type " + wireType
                        + " (groups are not part of the format) at byte " + (position - MAGIC.length));
            }
        }

        private int length() throws Malformed {
            long length = varint();
            if (length < 0 || length > end - position) {
                throw truncated();
            }
            return (int) length;
        }

        private void advance(int n) throws Malformed {
            if (n > end - position) {
                throw truncated();
            }
            position += n;
        }

        private Malformed truncated() {
            return new Malformed("it ends inside a field, at byte " + (Math.min(position, end) - MAGIC.length)
                    + (start == MAGIC.length ? "" : " (inside a record)"));
        }
    }
}
