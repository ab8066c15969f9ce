package dev.fanout.function;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;

import org.jboss.logging.Logger;
import org.jboss.logging.MDC;
import org.jboss.logmanager.LogContext;
import org.jboss.logmanager.formatters.PatternFormatter;
import org.jboss.logmanager.handlers.ConsoleHandler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.Metric;

/**
 * One invocation's summary as a CloudWatch Embedded Metric Format (EMF) event: the summary's members at
 * the root, the dimensions {@value #FUNCTION_NAME} and {@value #ENTRY_POINT} as root strings, and an
 * {@code _aws} block that declares which members are metrics in namespace {@value #NAMESPACE}. CloudWatch
 * Logs extracts the metrics from the log event itself: nothing is sent over the network.
 * <p>
 * EMF needs the log event to be one JSON object with nothing before or after it, which the JSON formatter
 * (it wraps the message in its own object) cannot give, and Quarkus gives every console handler, named ones
 * too, the JSON formatter once it is on. So the event goes to its own logger, {@value #LOGGER}, with its own
 * console handler that writes the message alone, to the same standard output. Members that are not
 * declared metrics (the {@code event} name, {@code fifo}, the request and trace ids) stay in the event for
 * Logs Insights.
 * <p>
 * Entry points build their summary as a JSON object with the metrics' keys ({@link Metric}) and call
 * {@link #log(ObjectNode, String)} once per invocation. The metrics declared are exactly {@link Metric}'s.
 */
public final class InvocationMetrics {

    public static final String NAMESPACE = "Fanout";
    public static final String LOGGER = "fanout.metrics";
    public static final String FUNCTION_NAME = "FunctionName";
    public static final String ENTRY_POINT = "EntryPoint";
    /** The specification's limit of metrics per directive. */
    public static final int MAX_METRICS = 100;
    /** An HTTP answer's status code; it becomes a count of answers of its class. */
    public static final String STATUS = "status";

    private static final Logger LOG = rawLogger();
    private static final String DEFAULT_FUNCTION_NAME = functionName();

    private InvocationMetrics() {
    }

    /** Writes the summary as an EMF event: one JSON object on one line of the function's log. */
    public static void log(ObjectNode summary, String entryPoint) {
        ObjectNode event = emf(summary, DEFAULT_FUNCTION_NAME, entryPoint, System.currentTimeMillis());
        putIfPresent(event, InvocationLog.REQUEST_ID, MDC.get(InvocationLog.REQUEST_ID));
        putIfPresent(event, InvocationLog.TRACE_ID, MDC.get(InvocationLog.TRACE_ID));
        LOG.info(event.toString());
    }

    /**
     * The EMF event of a summary. Numbers under a known metric name (or a per-type name) become metrics;
     * an HTTP {@value #STATUS} adds a count of 1 to its class; anything else stays a plain member.
     */
    public static ObjectNode emf(ObjectNode summary, String functionName, String entryPoint, long timestampMillis) {
        ObjectNode event = JsonNodeFactory.instance.objectNode();
        event.put(FUNCTION_NAME, functionName).put(ENTRY_POINT, entryPoint);
        event.setAll(summary);
        JsonNode status = summary.get(STATUS);
        if (status != null && status.canConvertToInt()) {
            int statusClass = status.asInt() / 100;
            event.put(Metric.ANSWERS_2XX.key(), statusClass == 2 ? 1 : 0).put(Metric.ANSWERS_4XX.key(), statusClass == 4 ? 1 : 0)
                    .put(Metric.ANSWERS_5XX.key(), statusClass == 5 ? 1 : 0);
        }
        List<String> metrics = new ArrayList<>();
        event.properties().forEach(member -> {
            if (member.getValue().isNumber() && unit(member.getKey()) != null && metrics.size() < MAX_METRICS) {
                metrics.add(member.getKey());
            }
        });
        ObjectNode directive = JsonNodeFactory.instance.objectNode().put("Namespace", NAMESPACE);
        directive.putArray("Dimensions").addArray().add(FUNCTION_NAME).add(ENTRY_POINT);
        var definitions = directive.putArray("Metrics");
        metrics.forEach(name -> definitions.addObject().put("Name", name).put("Unit", unit(name)));
        ObjectNode aws = event.putObject("_aws");
        aws.put("Timestamp", timestampMillis);
        aws.putArray("CloudWatchMetrics").add(directive);
        return event;
    }

    /** The EMF unit of the summary member {@code name} if it is a metric ({@link Metric#unitOf}), else null. */
    static String unit(String name) {
        return Metric.unitOf(name).map(Metric.Unit::emfName).orElse(null);
    }

    private static void putIfPresent(ObjectNode event, String key, Object value) {
        if (value != null) {
            event.put(key, value.toString());
        }
    }

    /**
     * The metrics logger: its own console handler, message only, not passed on to the root's JSON handler;
     * at INFO whatever the root's level, so that quieter logs keep their metrics.
     */
    private static Logger rawLogger() {
        var logger = LogContext.getLogContext().getLogger(LOGGER);
        logger.setUseParentHandlers(false);
        logger.setLevel(Level.INFO);
        var handler = new ConsoleHandler(ConsoleHandler.Target.SYSTEM_OUT, new PatternFormatter("%s%n"));
        handler.setAutoFlush(true);
        logger.addHandler(handler);
        return Logger.getLogger(LOGGER);
    }

    private static String functionName() {
        String name = System.getenv("AWS_LAMBDA_FUNCTION_NAME");
        return name == null || name.isBlank() ? "local" : name;
    }
}
