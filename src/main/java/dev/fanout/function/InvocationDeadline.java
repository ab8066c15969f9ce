package dev.fanout.function;

import java.time.Duration;

import org.jboss.logging.Logger;

import com.amazonaws.services.lambda.runtime.Context;

import dev.fanout.engine.Deadline;

/** The deadline of one invocation, learned from the invocation itself. */
final class InvocationDeadline {

    private static final Logger LOG = Logger.getLogger(InvocationDeadline.class);
    /** Lambda's longest timeout. A remaining time outside (0, 15 min] means the runtime sent no deadline. */
    static final long MAX_MILLIS = Duration.ofMinutes(15).toMillis();

    private InvocationDeadline() {
    }

    /**
     * {@code Lambda-Runtime-Deadline-Ms} as the runtime hands it over through the Context. Only a runtime
     * that sends no deadline (Quarkus's mock event server in dev and test mode) gets {@code fallback}.
     */
    static Deadline of(Context context, Duration fallback) {
        long millis = context == null ? -1 : context.getRemainingTimeInMillis();
        if (millis <= 0 || millis > MAX_MILLIS) {
            LOG.warnf("the runtime sent no usable deadline (remaining %d ms): using %s", millis, fallback);
            return Deadline.after(fallback);
        }
        return Deadline.after(Duration.ofMillis(millis));
    }
}
