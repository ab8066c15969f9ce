package dev.fanout.work;

import java.io.IOException;
import java.util.Collection;
import java.util.Map;
import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;

import dev.fanout.engine.RejectedItemException;

/** Binds payloads to function input types, turning Jackson's errors into short rejection reasons. */
final class Payloads {

    private Payloads() {
    }

    /**
     * The item's payload read by {@code reader} (the function's input type, unknown fields refused).
     *
     * @throws RejectedItemException if the payload is missing or does not fit the type, with the reason
     */
    static Object bind(WorkItem item, ObjectReader reader) {
        if (item.payload().isNull()) {
            throw new RejectedItemException(prefix(item) + "missing");
        }
        try {
            Object value = reader.readValue(item.payload());
            if (value == null) {
                throw new RejectedItemException(prefix(item) + "missing");
            }
            return value;
        } catch (JsonProcessingException e) {
            throw new RejectedItemException(prefix(item) + reason(e), e);
        } catch (IllegalArgumentException e) {
            // a record's compact constructor validating its input
            throw new RejectedItemException(prefix(item) + e.getMessage(), e);
        } catch (IOException e) {
            throw new RejectedItemException(prefix(item) + e.getMessage(), e);
        }
    }

    private static String prefix(WorkItem item) {
        return "'" + item.type() + "' payload: ";
    }

    private static String reason(JsonProcessingException e) {
        if (e instanceof UnrecognizedPropertyException unknown) {
            return "unknown field '" + unknown.getPropertyName() + "'";
        }
        if (e instanceof InvalidFormatException invalid) {
            return "field '" + path(invalid) + "' has an invalid value: " + invalid.getValue();
        }
        if (e instanceof MismatchedInputException mismatch && !mismatch.getPath().isEmpty()) {
            return "field '" + path(mismatch) + "' must be " + describe(mismatch.getTargetType());
        }
        if (e instanceof MismatchedInputException mismatch) {
            return "must be " + describe(mismatch.getTargetType());
        }
        if (e.getCause() instanceof IllegalArgumentException invalid) {
            return invalid.getMessage();
        }
        return e.getOriginalMessage();
    }

    private static String path(MismatchedInputException e) {
        return e.getPath().stream()
                .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining("."));
    }

    private static String describe(Class<?> type) {
        if (type == null) {
            return "of another type";
        }
        if (type == String.class) {
            return "a string";
        }
        if (Number.class.isAssignableFrom(type) || type == int.class || type == long.class || type == double.class) {
            return "a number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "a boolean";
        }
        if (Map.class.isAssignableFrom(type)) {
            return "an object";
        }
        if (Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "an array";
        }
        return "an object";
    }
}
