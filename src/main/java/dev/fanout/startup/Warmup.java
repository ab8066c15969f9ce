package dev.fanout.startup;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

/**
 * Builds what the chosen entry point needs during Lambda's init phase, not during the first invocation,
 * whose deadline it would eat into ({@link EntryPointStart#warmUp}). A missing setting (no results queue)
 * fails the init, loudly.
 */
@ApplicationScoped
public class Warmup {

    private static final Logger LOG = Logger.getLogger(Warmup.class);

    @ConfigProperty(name = "quarkus.lambda.handler", defaultValue = "sqs")
    String entryPoint;

    /** Lambda sets AWS_LAMBDA_INITIALIZATION_TYPE=snap-start for the init that a snapshot is taken of. */
    @ConfigProperty(name = "aws.lambda.initialization-type", defaultValue = "on-demand")
    String initializationType;

    @Inject
    @Any
    Instance<EntryPointStart> starts;

    void onStart(@Observes StartupEvent event) {
        StartPriming.failures().forEach((job, failure) -> LOG.infof("%s failed (the first event loads what it did not"
                + " load): %s", job, failure.toString()));
        boolean snapStart = "snap-start".equals(initializationType);
        EntryPointStart.named(starts, entryPoint).ifPresentOrElse(start -> start.warmUp(snapStart),
                () -> LOG.warnf("unknown entry point '%s': nothing to warm up", entryPoint));
    }
}
