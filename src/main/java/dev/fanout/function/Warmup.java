package dev.fanout.function;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import dev.fanout.fanin.ResultsSink;
import dev.fanout.fanin.SqsResultsSink;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

/**
 * Builds what the chosen entry point needs during Lambda's init phase, not during the first invocation,
 * whose deadline it would eat into. A missing setting (no results queue) fails the init, loudly.
 */
@ApplicationScoped
public class Warmup {

    private static final Logger LOG = Logger.getLogger(Warmup.class);

    @ConfigProperty(name = "quarkus.lambda.handler", defaultValue = "sqs")
    String entryPoint;

    /** Lambda sets AWS_LAMBDA_INITIALIZATION_TYPE=snap-start for the init that a snapshot is taken of. */
    @ConfigProperty(name = "aws.lambda.initialization-type", defaultValue = "on-demand")
    String initializationType;

    boolean snapStart;

    @Inject
    Instance<SqsBatchProcessor> sqsBatches;

    @Inject
    Instance<HttpBatchProcessor> httpBatches;

    @Inject
    Instance<StreamBatchProcessor> streamBatches;

    @Inject
    Instance<ResultsSink> sink;

    void onStart(@Observes StartupEvent event) {
        snapStart = "snap-start".equals(initializationType);
        StartPriming.failures().forEach((job, failure) -> LOG.infof("%s failed (the first event loads what it did not"
                + " load): %s", job, failure.toString()));
        switch (entryPoint) {
            case "sqs", "kinesis", "dynamodb" -> {
                (entryPoint.equals("sqs") ? sqsBatches : streamBatches).get();
                if (snapStart) {
                    // the connection and credentials a warm-up would make are dropped at restore anyway
                    LOG.info("SnapStart: the results queue is first called after restore");
                } else if (sink.get() instanceof SqsResultsSink sqs) {
                    String answer = sqs.warmUp();
                    if (answer.startsWith("not reachable")) {
                        // the first invocation's fan-in tries again, within its own deadline
                        LOG.warnf("results queue %s: %s", sqs.settings().queueUrl(), answer);
                    } else {
                        LOG.infof("results queue %s: %s", sqs.settings().queueUrl(), answer);
                    }
                }
            }
            case "http" -> httpBatches.get().warmUp().ifPresent(state -> LOG.infof("work queue: %s", state));
            default -> LOG.warnf("unknown entry point '%s': nothing to warm up", entryPoint);
        }
    }
}
