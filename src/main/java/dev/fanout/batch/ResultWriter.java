package dev.fanout.batch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;

/**
 * Writes result records as JSON that SQS accepts as a message body. SQS allows #x9, #xA, #xD,
 * #x20-#xD7FF, #xE000-#xFFFD and #x10000-#x10FFFF; JSON already escapes the control characters, and this
 * writer escapes the two non-characters U+FFFE and U+FFFF too, which a handler's output may carry (a
 * body SQS refuses would keep a succeeded record from ever being acknowledged).
 */
public final class ResultWriter {

    private final ObjectWriter writer;

    public ResultWriter(ObjectMapper mapper) {
        this.writer = mapper.writer().with(new SqsEscapes());
    }

    /** The record as a message body. */
    public String write(ResultRecord record) throws JsonProcessingException {
        return writer.writeValueAsString(record);
    }

    private static final class SqsEscapes extends CharacterEscapes {
        private static final int[] ASCII = CharacterEscapes.standardAsciiEscapesForJSON();
        private static final SerializedString FFFE = new SerializedString("\\ufffe");
        private static final SerializedString FFFF = new SerializedString("\\uffff");

        @Override
        public int[] getEscapeCodesForAscii() {
            return ASCII;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            return switch (ch) {
                case 0xFFFE -> FFFE;
                case 0xFFFF -> FFFF;
                default -> null;
            };
        }
    }
}
