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

    @Inject
    Instance<SqsBatchProcessor> sqsBatches;

    @Inject
    Instance<HttpBatchProcessor> httpBatches;

    @Inject
    Instance<ResultsSink> sink;

    void onStart(@Observes StartupEvent event) {
        switch (entryPoint) {
            case "sqs" -> {
                sqsBatches.get();
                if (sink.get() instanceof SqsResultsSink sqs) {
                    LOG.infof("results queue %s: %s", sqs.settings().queueUrl(), sqs.warmUp());
                }
            }
            case "http" -> httpBatches.get().warmUp().ifPresent(state -> LOG.infof("work queue: %s", state));
            default -> LOG.warnf("unknown entry point '%s': nothing to warm up", entryPoint);
        }
    }
}
