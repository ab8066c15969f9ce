package dev.fanout.bench;

import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Result lines between a child JVM and the suite: {@code RESULT <kind> name=value name=value ...} on the
 * child's stdout, one record per line, values without spaces. Everything else the child prints is passed
 * through as log. A plain format rather than JSON: a JSON library's start-up would be paid by every one of
 * the suite's child JVMs.
 */
public final class ResultLine {

    static final String PREFIX = "RESULT ";

    private ResultLine() {
    }

    /** Prints one result line (child side). */
    public static synchronized void emit(String kind, Record record) {
        System.out.println(PREFIX + kind + " " + write(record));
        System.out.flush();
    }

    static String write(Record record) {
        StringJoiner fields = new StringJoiner(" ");
        for (RecordComponent component : record.getClass().getRecordComponents()) {
            try {
                String value = String.valueOf(component.getAccessor().invoke(record));
                if (value.isEmpty() || value.chars().anyMatch(Character::isWhitespace)) {
                    throw new IllegalArgumentException(component.getName() + " must be a single word: '" + value + "'");
                }
                fields.add(component.getName() + "=" + value);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return fields.toString();
    }

    static <T extends Record> T read(String line, Class<T> type) {
        Map<String, String> values = new HashMap<>();
        for (String field : line.trim().split(" ")) {
            int eq = field.indexOf('=');
            values.put(field.substring(0, eq), field.substring(eq + 1));
        }
        RecordComponent[] components = type.getRecordComponents();
        Object[] args = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            String value = values.get(components[i].getName());
            if (value == null) {
                throw new IllegalArgumentException("no " + components[i].getName() + " in '" + line + "'");
            }
            args[i] = parse(value, components[i].getType());
        }
        try {
            Constructor<T> canonical = type.getDeclaredConstructor(
                    Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new));
            canonical.setAccessible(true);
            return canonical.newInstance(args);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot build " + type.getSimpleName() + " from '" + line + "'", e);
        }
    }

    private static Object parse(String value, Class<?> type) {
        if (type == int.class) {
            return Integer.parseInt(value);
        } else if (type == long.class) {
            return Long.parseLong(value);
        } else if (type == double.class) {
            return Double.parseDouble(value);
        } else if (type == boolean.class) {
            return Boolean.parseBoolean(value);
        } else if (type == String.class) {
            return value;
        }
        throw new IllegalArgumentException("unsupported field type " + type);
    }
}
