package dev.fanout.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code key=value} arguments a workload passes to its child JVM.
 */
public record Options(Map<String, String> values) {

    public static Options parse(List<String> args) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("expected key=value, got '" + arg + "'");
            }
            values.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        return new Options(Map.copyOf(values));
    }

    public String get(String key) {
        String value = values.get(key);
        if (value == null) {
            throw new IllegalArgumentException("missing option '" + key + "'");
        }
        return value;
    }

    public int intValue(String key) {
        return Integer.parseInt(get(key));
    }

    public long longValue(String key) {
        return Long.parseLong(get(key));
    }

    public double doubleValue(String key) {
        return Double.parseDouble(get(key));
    }

    /** As command-line arguments. */
    public List<String> toArgs() {
        return values.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private final Map<String, String> values = new LinkedHashMap<>();

        public Builder put(String key, Object value) {
            values.put(key, String.valueOf(value));
            return this;
        }

        public Options build() {
            return new Options(Map.copyOf(values));
        }
    }
}
