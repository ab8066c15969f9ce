package dev.fanout.function;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Base64;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

import io.quarkus.jackson.ObjectMapperCustomizer;
import io.quarkus.runtime.annotations.RegisterForReflection;
import jakarta.inject.Singleton;

/**
 * How a Kinesis record's {@code data} is read from the event. Jackson decodes a {@code ByteBuffer} from base64
 * itself, but fails the whole event on one value that is not base64: the invocation would fail before the
 * function sees it, and Lambda would replay the batch until the record expires. Read through this mix-in, such
 * a value becomes {@link #NOT_BASE64}, and only its record is rejected ({@link KinesisRecords}). Quarkus's
 * Lambda runtime reads events with a copy of the application's ObjectMapper, which this customizes.
 */
@Singleton
public class StreamEventBindings implements ObjectMapperCustomizer {

    /** Stands for a {@code data} value that is not base64; recognised by identity. */
    private static final ByteBuffer NOT_BASE64 = ByteBuffer.allocate(0).asReadOnlyBuffer();

    static boolean isNotBase64(ByteBuffer data) {
        return data == NOT_BASE64;
    }

    @Override
    public void customize(ObjectMapper mapper) {
        register(mapper);
    }

    /** {@code mapper}, reading Kinesis records' data as above. */
    public static ObjectMapper register(ObjectMapper mapper) {
        return mapper.addMixIn(com.amazonaws.services.lambda.runtime.events.models.kinesis.Record.class,
                KinesisRecordData.class);
    }

    // a native image reads the mix-in's annotations and builds the deserializer by reflection
    @RegisterForReflection
    abstract static class KinesisRecordData {
        @JsonDeserialize(using = LenientBase64.class)
        abstract void setData(ByteBuffer data);
    }

    @RegisterForReflection
    static final class LenientBase64 extends JsonDeserializer<ByteBuffer> {
        @Override
        public ByteBuffer deserialize(JsonParser parser, DeserializationContext context) throws IOException {
            if (parser.currentToken() != JsonToken.VALUE_STRING) {
                parser.skipChildren();
                return NOT_BASE64;
            }
            try {
                return ByteBuffer.wrap(Base64.getDecoder().decode(parser.getText()));
            } catch (IllegalArgumentException e) {
                return NOT_BASE64;
            }
        }
    }
}
