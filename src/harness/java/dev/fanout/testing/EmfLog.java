package dev.fanout.testing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * The EMF events in a function's log, and their metrics added up as CloudWatch would: counts summed,
 * times as their minimum, mean and maximum.
 */
public final class EmfLog {

    /** One metric over many events. */
    public record Total(String unit, boolean peak, long samples, double sum, double min, double max) {
        Total with(double value) {
            return new Total(unit, peak, samples + 1, sum + value, Math.min(min, value), Math.max(max, value));
        }

        public double mean() {
            return samples == 0 ? 0 : sum / samples;
        }

        /** Counts as their sum (a peak as its maximum), times as minimum, mean and maximum. */
        @Override
        public String toString() {
            if (!"Count".equals(unit)) {
                return "min %.0f, mean %.0f, max %.0f %s".formatted(min, mean(), max, unit.toLowerCase(java.util.Locale.ROOT));
            }
            return peak ? "max %d".formatted((long) max) : Long.toString((long) sum);
        }
    }

    private EmfLog() {
    }

    /** The log's lines that carry an {@code _aws} block, parsed. */
    public static List<JsonNode> events(String log) {
        List<JsonNode> events = new ArrayList<>();
        for (String line : log.lines().toList()) {
            if (!line.startsWith("{") || !line.contains("\"_aws\"")) {
                continue;
            }
            try {
                JsonNode event = EmfSpecification.parse(line);
                if (event.has("_aws")) {
                    events.add(event);
                }
            } catch (JsonProcessingException notJson) {
                // not an EMF event: the checks of the log's format report it
            }
        }
        return events;
    }

    /** Every declared metric of the events, by name, in the order first seen. */
    public static Map<String, Total> totals(List<JsonNode> events) {
        Map<String, Total> totals = new LinkedHashMap<>();
        for (JsonNode event : events) {
            for (JsonNode directive : event.get("_aws").get("CloudWatchMetrics")) {
                for (JsonNode metric : directive.get("Metrics")) {
                    String name = metric.get("Name").asText();
                    String unit = metric.path("Unit").asText("None");
                    double value = event.get(name).asDouble();
                    totals.merge(name, new Total(unit, name.startsWith("peak"), 1, value, value, value),
                            (old, one) -> old.with(value));
                }
            }
        }
        return totals;
    }
}
