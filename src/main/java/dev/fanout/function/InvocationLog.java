package dev.fanout.function;

import java.util.Optional;

import org.jboss.logging.MDC;

import com.amazonaws.services.lambda.runtime.Context;

/**
 * Correlation for one invocation's log lines: its request id and X-Ray trace id in the logging MDC, so
 * that the JSON formatter writes them into every line (under {@code mdc}). The MDC is inheritable: the
 * engine's item threads and the fan-in's send threads, started by the invocation's thread, carry a copy.
 * <p>
 * The trace id comes from the Context (the Runtime Interface Client reads the Runtime API's
 * {@code Lambda-Runtime-Trace-Id} into it), else from the system property
 * {@code com.amazonaws.xray.traceHeader} (set by the client, and by Quarkus's own poll loop in a native
 * build), else from {@code _X_AMZN_TRACE_ID}.
 */
public final class InvocationLog implements AutoCloseable {

    public static final String REQUEST_ID = "awsRequestId";
    public static final String TRACE_ID = "traceId";
    static final String TRACE_HEADER_PROPERTY = "com.amazonaws.xray.traceHeader";
    static final String TRACE_HEADER_VARIABLE = "_X_AMZN_TRACE_ID";

    private final Optional<String> traceId;

    private InvocationLog(Optional<String> traceId) {
        this.traceId = traceId;
    }

    /** Puts the invocation's ids in the MDC until {@link #close()}. */
    public static InvocationLog open(Context context) {
        String requestId = context == null ? null : context.getAwsRequestId();
        Optional<String> traceId = traceId(context);
        put(REQUEST_ID, requestId);
        put(TRACE_ID, traceId.orElse(null));
        return new InvocationLog(traceId);
    }

    /** The X-Ray trace id (the header's {@code Root}), if the invocation is traced. */
    public Optional<String> traceId() {
        return traceId;
    }

    @Override
    public void close() {
        MDC.remove(REQUEST_ID);
        MDC.remove(TRACE_ID);
    }

    static Optional<String> traceId(Context context) {
        String header = context == null ? null : context.getXrayTraceId();
        if (header == null || header.isBlank()) {
            header = System.getProperty(TRACE_HEADER_PROPERTY);
        }
        if (header == null || header.isBlank()) {
            header = System.getenv(TRACE_HEADER_VARIABLE);
        }
        return root(header);
    }

    /**
     * The trace id of an X-Ray trace header ({@code Root=1-...;Parent=...;Sampled=1}): its {@code Root}
     * field; a header without one is taken as the id itself.
     */
    static Optional<String> root(String header) {
        if (header == null || header.isBlank()) {
            return Optional.empty();
        }
        for (String field : header.split(";")) {
            String trimmed = field.strip();
            if (trimmed.startsWith("Root=")) {
                String root = trimmed.substring("Root=".length());
                return root.isEmpty() ? Optional.empty() : Optional.of(root);
            }
        }
        return header.contains("=") ? Optional.empty() : Optional.of(header.strip());
    }

    private static void put(String key, String value) {
        if (value == null || value.isBlank()) {
            MDC.remove(key);
        } else {
            MDC.put(key, value);
        }
    }
}
