package dev.fanout.startup;

import java.util.Optional;
import java.util.function.Supplier;

import org.crac.Context;
import org.crac.Core;
import org.crac.Resource;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import dev.fanout.work.ItemFunctions;
import dev.fanout.work.http.HttpCallFunction;
import dev.fanout.work.limits.ServiceLimits;
import io.quarkus.runtime.PreloadClassesRecorder;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * SnapStart's hooks (org.crac, which Lambda's java25 runtime calls around the snapshot of a published
 * version). Before the snapshot: load the application's classes (Quarkus's generated list, by Quarkus's own
 * preloading), prime the entry point ({@link EntryPointStart#prime()}: what the first invocation would
 * otherwise load and compile, without calling AWS), and close pooled connections. After restore: the snapshot
 * may be restored many times, hours later, so nothing that holds a connection, credentials or a clock reading
 * survives it: the SQS client is rebuilt, the http function's pool is emptied and the per-service limits are
 * learned again.
 */
@Singleton
public class SnapStartHooks implements Resource {

    private static final Logger LOG = Logger.getLogger(SnapStartHooks.class);

    private final String entryPoint;
    private final Supplier<SqsClient> sqs;
    private final Supplier<Optional<HttpCallFunction>> http;
    private final Supplier<ServiceLimits> limits;
    private final Supplier<Optional<EntryPointStart>> start;

    @Inject
    SnapStartHooks(@ConfigProperty(name = "quarkus.lambda.handler", defaultValue = "sqs") String entryPoint,
            Instance<SqsClient> sqs, Instance<HttpCallFunction> http, Instance<ItemFunctions> functions,
            @Any Instance<EntryPointStart> starts) {
        // looked up when a hook runs: a deployment of one entry point never builds what only another needs
        this(entryPoint, sqs::get, () -> http.isResolvable() ? Optional.of(http.get()) : Optional.empty(),
                () -> functions.get().serviceLimits(), () -> EntryPointStart.named(starts, entryPoint));
    }

    SnapStartHooks(String entryPoint, Supplier<SqsClient> sqs, Supplier<Optional<HttpCallFunction>> http,
            Supplier<ServiceLimits> limits, Supplier<Optional<EntryPointStart>> start) {
        this.entryPoint = entryPoint;
        this.sqs = sqs;
        this.http = http;
        this.limits = limits;
        this.start = start;
    }

    void register(@Observes StartupEvent event) {
        // the global context holds resources weakly: this bean (a singleton) keeps it alive
        Core.getGlobalContext().register(this);
    }

    @Override
    public void beforeCheckpoint(Context<? extends Resource> context) throws InterruptedException {
        if (!StartPriming.await(Priming.TIME)) {
            LOG.warn("SnapStart: the start's priming had not ended; the snapshot holds it half done");
        }
        // Quarkus's own preloading of its generated class list (quarkus.snapstart.generate-application-class-list),
        // here rather than at every start (quarkus.snapstart.preload-classes=false: docs/deployment.md says why)
        PreloadClassesRecorder.preloadClasses(true);
        Priming priming = prime();
        dropConnections();
        LOG.infof("SnapStart: application classes loaded; %s primed: %d events, %d items, %d results (in process);"
                + " pooled connections closed", entryPoint, priming.events(), priming.items(), priming.results());
    }

    @Override
    public void afterRestore(Context<? extends Resource> context) {
        if (sqs.get() instanceof RestorableSqsClient restorable) {
            restorable.renew();
        }
        dropConnections();
        limits.get().reset(); // the services may have changed since the snapshot: learn them again
        LOG.info("SnapStart: restored; SQS client rebuilt, the http function's pool emptied, service limits reset");
    }

    /** The entry point's priming run; nothing is run for an entry point without a start of its own. */
    Priming prime() {
        // priming only saves time: a step that fails is logged, and the snapshot is taken all the same
        try {
            return start.get().map(EntryPointStart::prime).orElseGet(() -> {
                LOG.warnf("SnapStart: entry point '%s' has nothing to prime", entryPoint);
                return new Priming(0, 0, 0);
            });
        } catch (RuntimeException e) {
            LOG.warnf("SnapStart: priming %s failed (the first invocation loads what it did not): %s", entryPoint, e);
            return new Priming(0, 0, 0);
        }
    }

    /** Pooled connections closed, and the services' holds forgotten: their times are on the monotonic clock. */
    private void dropConnections() {
        http.get().ifPresent(function -> {
            function.closeIdleConnections();
            function.forgetHolds();
        });
    }
}
