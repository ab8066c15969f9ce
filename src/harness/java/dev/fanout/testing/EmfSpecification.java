package dev.fanout.testing;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The rules of CloudWatch's Embedded Metric Format specification
 * (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html),
 * as checks on one log event. {@link #violations(String)} lists what breaks them; empty means valid.
 * <ul>
 * <li>The log event is a valid JSON object with no data before or after it.</li>
 * <li>The root has {@code _aws}, an object with {@code Timestamp} (a number: milliseconds since the epoch)
 * and {@code CloudWatchMetrics} (an array of metric directives); no other members.</li>
 * <li>A directive has {@code Namespace} (a string), {@code Dimensions} (an array of dimension sets) and
 * {@code Metrics} (an array of at most 100 metric definitions); no other members.</li>
 * <li>A dimension set is an array of at most 30 strings, each naming a root member whose value is a
 * string.</li>
 * <li>A metric definition has {@code Name} (a string naming a root member), optionally {@code Unit} (one
 * of CloudWatch's units) and {@code StorageResolution} (1 or 60); no other members. The root member is a
 * number or an array of at most 100 numbers.</li>
 * </ul>
 */
public final class EmfSpecification {

    public static final int MAX_METRICS = 100;
    public static final int MAX_DIMENSIONS = 30;
    static final Set<String> UNITS = Set.of("Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes",
            "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent",
            "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
            "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
            "Count/Second", "None");
    private static final ObjectMapper STRICT = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private EmfSpecification() {
    }

    /** The log event parsed strictly: one JSON value and nothing after it. */
    public static JsonNode parse(String logEvent) throws JsonProcessingException {
        return STRICT.readTree(logEvent);
    }

    public static List<String> violations(String logEvent) {
        JsonNode root;
        try {
            root = parse(logEvent);
        } catch (JsonProcessingException e) {
            return List.of("not one JSON value alone: " + e.getOriginalMessage());
        }
        List<String> problems = new ArrayList<>();
        if (root == null || !root.isObject()) {
            return List.of("the log event is not a JSON object");
        }
        JsonNode aws = root.get("_aws");
        if (aws == null || !aws.isObject()) {
            return List.of("no _aws object at the root");
        }
        onlyMembers(aws, "_aws", Set.of("Timestamp", "CloudWatchMetrics"), problems);
        JsonNode timestamp = aws.get("Timestamp");
        if (timestamp == null || !timestamp.isNumber() || timestamp.asLong() <= 0) {
            problems.add("_aws.Timestamp is not a positive number of milliseconds: " + timestamp);
        }
        JsonNode directives = aws.get("CloudWatchMetrics");
        if (directives == null || !directives.isArray()) {
            problems.add("_aws.CloudWatchMetrics is not an array");
            return problems;
        }
        for (JsonNode directive : directives) {
            directive(root, directive, problems);
        }
        return problems;
    }

    private static void directive(JsonNode root, JsonNode directive, List<String> problems) {
        if (!directive.isObject()) {
            problems.add("a metric directive is not an object: " + directive);
            return;
        }
        onlyMembers(directive, "a metric directive", Set.of("Namespace", "Dimensions", "Metrics"), problems);
        JsonNode namespace = directive.get("Namespace");
        if (namespace == null || !namespace.isTextual() || namespace.asText().isBlank()) {
            problems.add("Namespace is not a non-empty string: " + namespace);
        }
        JsonNode dimensions = directive.get("Dimensions");
        if (dimensions == null || !dimensions.isArray()) {
            problems.add("Dimensions is not an array: " + dimensions);
        } else {
            for (JsonNode set : dimensions) {
                if (!set.isArray()) {
                    problems.add("a dimension set is not an array: " + set);
                    continue;
                }
                if (set.size() > MAX_DIMENSIONS) {
                    problems.add("a dimension set has " + set.size() + " keys, more than " + MAX_DIMENSIONS);
                }
                for (JsonNode key : set) {
                    JsonNode value = key.isTextual() ? root.get(key.asText()) : null;
                    if (value == null || !value.isTextual() || value.asText().isEmpty()) {
                        problems.add("dimension " + key + " has no non-empty string value at the root: " + value);
                    }
                }
            }
        }
        JsonNode metrics = directive.get("Metrics");
        if (metrics == null || !metrics.isArray()) {
            problems.add("Metrics is not an array: " + metrics);
            return;
        }
        if (metrics.size() > MAX_METRICS) {
            problems.add(metrics.size() + " metric definitions, more than " + MAX_METRICS);
        }
        Set<String> names = new HashSet<>();
        for (JsonNode metric : metrics) {
            metric(root, metric, names, problems);
        }
    }

    private static void metric(JsonNode root, JsonNode metric, Set<String> names, List<String> problems) {
        if (!metric.isObject()) {
            problems.add("a metric definition is not an object: " + metric);
            return;
        }
        onlyMembers(metric, "a metric definition", Set.of("Name", "Unit", "StorageResolution"), problems);
        JsonNode name = metric.get("Name");
        if (name == null || !name.isTextual() || name.asText().isEmpty()) {
            problems.add("a metric definition without a Name: " + metric);
            return;
        }
        if (!names.add(name.asText())) {
            problems.add("metric " + name + " is declared twice");
        }
        JsonNode unit = metric.get("Unit");
        if (unit != null && !(unit.isTextual() && UNITS.contains(unit.asText()))) {
            problems.add("metric " + name + " has an unknown unit " + unit);
        }
        JsonNode resolution = metric.get("StorageResolution");
        if (resolution != null && !(resolution.isInt() && (resolution.asInt() == 1 || resolution.asInt() == 60))) {
            problems.add("metric " + name + " has a StorageResolution other than 1 or 60: " + resolution);
        }
        JsonNode value = root.get(name.asText());
        boolean numbers = value != null && value.isArray() && value.size() <= 100 && value.size() > 0;
        if (numbers) {
            for (JsonNode element : value) {
                numbers &= element.isNumber();
            }
        }
        if (value == null || !(value.isNumber() || numbers)) {
            problems.add("metric " + name + " has no number (or array of at most 100 numbers) at the root: " + value);
        }
    }

    private static void onlyMembers(JsonNode object, String what, Set<String> allowed, List<String> problems) {
        object.fieldNames().forEachRemaining(field -> {
            if (!allowed.contains(field)) {
                problems.add(what + " has a member the specification does not define: " + field);
            }
        });
    }
}
