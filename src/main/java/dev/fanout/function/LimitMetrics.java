package dev.fanout.function;


import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.Metric;
import dev.fanout.work.limits.LimitReport;
import dev.fanout.work.limits.ServiceLimits;

/**
 * One invocation's figures of the per-service limits, in its summary (EMF): the lowest and highest limit in force
 * over the services used, the services used, and the permits waited for. No metric is per service (their number
 * is unbounded, and each would be a metric of its own): a service whose limit moved gets one log line per
 * invocation instead.
 */
final class LimitMetrics {


    private static final Logger LOG = Logger.getLogger("fanout.limits");

    private LimitMetrics() {
    }

    /**
     * Adds what the limits did since the last invocation's summary to this one's, and logs each service whose
     * limit moved, once; adds nothing when no service was used (no http item, no permit).
     */
    static void add(ObjectNode summary, ServiceLimits limits) {
        if (!limits.enabled()) {
            return;
        }
        LimitReport report = limits.report();
        if (report.isEmpty()) {
            return;
        }
        summary.put(Metric.LIMIT_LOWEST.key(), report.lowest()).put(Metric.LIMIT_HIGHEST.key(), report.highest())
                .put(Metric.LIMITED_SERVICES.key(), report.services().size())
                .put(Metric.PERMITS_WAITED.key(), report.waited());
        for (LimitReport.Service service : report.services()) {
            if (service.changed()) {
                LOG.infof("limit of %s: %d -> %d (lowest %d, highest %d), %d permits waited for", service.service(),
                        service.from(), service.to(), service.lowest(), service.highest(), service.waited());
            }
        }
    }
}
