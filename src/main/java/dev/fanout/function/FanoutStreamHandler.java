package dev.fanout.function;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;

import io.quarkus.amazon.lambda.runtime.QuarkusStreamHandler;

/**
 * The class Lambda's Java runtime loads (template.yaml's Handler): Quarkus's stream handler, with a failed
 * init reported by its cause. Quarkus reports any failed start as "Quarkus manual initialization failed";
 * Lambda shows that message as the function's error and the cause is only in the log. This rethrows the
 * innermost cause, so that Lambda shows, for instance, "no results queue: set RESULTS_QUEUE_URL".
 */
public final class FanoutStreamHandler implements RequestStreamHandler {

    private final QuarkusStreamHandler quarkus;

    public FanoutStreamHandler() {
        // before Quarkus starts, so that what the first event needs loads on the other core meanwhile (here, not in
        // a static initialiser: a native build initialises classes at build time, where no thread may start)
        StartPriming.start();
        try {
            quarkus = new QuarkusStreamHandler();
        } catch (RuntimeException e) {
            throw causeOf(e);
        }
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        quarkus.handleRequest(input, output, context);
    }

    /** The innermost exception with a message, as an unchecked exception the runtime reports by type and message. */
    static RuntimeException causeOf(RuntimeException failure) {
        Throwable cause = failure;
        for (Throwable t = failure; t != null && t.getCause() != t; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                cause = t;
            }
        }
        return cause instanceof RuntimeException unchecked ? unchecked
                : new IllegalStateException(cause.getClass().getSimpleName() + ": " + cause.getMessage(), failure);
    }
}
