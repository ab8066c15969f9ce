package dev.fanout.function;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import org.crac.Context;
import org.crac.Core;
import org.crac.Resource;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.RecordBatch;
import dev.fanout.batch.SourceRecord;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.work.ItemParser;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.http.HttpCallFunction;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResultEntry;

/**
 * SnapStart's hooks (org.crac, which Lambda's java25 runtime calls around the snapshot of a published
 * version). Before the snapshot: prime what the first invocation would otherwise load and compile (the
 * entry point's parsing, the engine, the built-in handlers, the fan-in, Jackson's (de)serialisers of the
 * events and the results), without calling AWS, and close pooled connections. After restore: the snapshot may be
 * restored many times, hours later, so nothing that holds a connection, credentials or a clock reading
 * survives it: the SQS client is rebuilt and the http handler's pool is emptied.
 */
@Singleton
public class SnapStartHooks implements Resource {

    private static final Logger LOG = Logger.getLogger(SnapStartHooks.class);

    /** A batch the entry points can run without leaving the process: every built-in path but the network. */
    static final List<String> PRIMING_ITEMS = List.of(
            "{\"id\":\"prime-digest\",\"type\":\"digest\",\"payload\":{\"data\":\"prime\",\"rounds\":2}}",
            "{\"id\":\"prime-delay\",\"type\":\"delay\",\"payload\":{\"millis\":0}}",
            "{\"id\":\"prime-unknown\",\"type\":\"no-such-type\"}",
            "not json");

    private final String entryPoint;
    private final Supplier<SqsClient> sqs;
    private final Supplier<Optional<HttpCallFunction>> http;
    private final Supplier<HttpBatchProcessor> httpBatches;
    private final WorkerPool pool;
    private final ItemFunctions handlers;
    private final ItemParser parser;
    private final ObjectMapper mapper;

    @Inject
    SnapStartHooks(@ConfigProperty(name = "quarkus.lambda.handler", defaultValue = "sqs") String entryPoint,
            Instance<SqsClient> sqs, Instance<HttpCallFunction> http,
            Instance<HttpBatchProcessor> httpBatches, WorkerPool pool, ItemFunctions handlers, ItemParser parser,
            ObjectMapper mapper) {
        // looked up when a hook runs: a deployment of one entry point never builds what only the other needs
        this(entryPoint, sqs::get, () -> http.isResolvable() ? Optional.of(http.get()) : Optional.empty(),
                httpBatches::get, pool, handlers, parser, mapper);
    }

    SnapStartHooks(String entryPoint, Supplier<SqsClient> sqs, Supplier<Optional<HttpCallFunction>> http,
            Supplier<HttpBatchProcessor> httpBatches, WorkerPool pool, ItemFunctions handlers, ItemParser parser,
            ObjectMapper mapper) {
        this.entryPoint = entryPoint;
        this.sqs = sqs;
        this.http = http;
        this.httpBatches = httpBatches;
        this.pool = pool;
        this.handlers = handlers;
        this.parser = parser;
        this.mapper = mapper;
    }

    /** What one priming run did, for the log and the tests. */
    public record Priming(int events, int items, int results) {
    }

    void register(@Observes StartupEvent event) {
        // the global context holds resources weakly: this bean (a singleton) keeps it alive
        Core.getGlobalContext().register(this);
    }

    @Override
    public void beforeCheckpoint(Context<? extends Resource> context) throws InterruptedException {
        if (!StartPriming.await(PRIMING_TIME)) {
            LOG.warn("SnapStart: the start's priming had not ended; the snapshot holds it half done");
        }
        int preloaded = preloadApplicationClasses();
        Priming priming = prime();
        dropConnections();
        LOG.infof("SnapStart: %d application classes loaded; primed %d events, %d items, %d results (for sqs,"
                + " through the fan-in to a queue in process); pooled connections closed", preloaded, priming.events(), priming.items(), priming.results());
    }

    /** The application's classes, as Quarkus's build lists them (quarkus.snapstart.generate-application-class-list). */
    static final String APPLICATION_CLASS_LIST = "/META-INF/quarkus-generated-preload-classes.txt";

    /**
     * Loads the classes of Quarkus's generated list into the snapshot, as Quarkus would at every start
     * ({@code quarkus.snapstart.preload-classes}, off: application.properties). Returns how many were loaded.
     */
    static int preloadApplicationClasses() {
        try (InputStream list = SnapStartHooks.class.getResourceAsStream(APPLICATION_CLASS_LIST)) {
            return list == null ? 0 : preload(new String(list.readAllBytes(), StandardCharsets.UTF_8).lines().toList(),
                    SnapStartHooks.class.getClassLoader());
        } catch (IOException e) {
            LOG.warnf("SnapStart: %s not read: %s", APPLICATION_CLASS_LIST, e.getMessage());
            return 0;
        }
    }

    /**
     * Loads and initialises each named class, as Quarkus's preloading does by default
     * ({@code quarkus.snapstart.initialize-classes}); text after {@code #} is a comment, and a class that cannot
     * be loaded is skipped.
     */
    static int preload(List<String> classNames, ClassLoader loader) {
        int loaded = 0;
        for (String line : classNames) {
            int comment = line.indexOf('#');
            String name = (comment < 0 ? line : line.substring(0, comment)).strip();
            if (name.isEmpty()) {
                continue;
            }
            try {
                Class.forName(name, true, loader);
                loaded++;
            } catch (ClassNotFoundException | LinkageError e) {
                LOG.debugf("SnapStart: %s not preloaded: %s", name, e);
            }
        }
        return loaded;
    }

    @Override
    public void afterRestore(Context<? extends Resource> context) {
        if (sqs.get() instanceof RestorableSqsClient restorable) {
            restorable.renew();
        }
        dropConnections();
        LOG.info("SnapStart: restored; SQS client rebuilt, the http handler's pool emptied");
    }

    /**
     * Runs the entry point's path once in process: parsing, the engine, the handlers, the results' JSON, and for
     * {@code sqs} the fan-in, to a queue in process ({@link InProcessQueue}).
     */
    public Priming prime() {
        // priming only saves time: a step that fails is logged, and the snapshot is taken all the same
        // (the HTTP entry point reads its event itself, as a tree: it is primed by answering one below)
        int events = read(SqsFunction.Event.class, SAMPLE_SQS_EVENT);
        if ("http".equals(entryPoint)) {
            // the event as API Gateway sends it (payload format 2.0), read by the entry point itself
            ObjectNode event = mapper.createObjectNode().put("version", "2.0").put("routeKey", "POST /batches")
                    .put("rawPath", "/batches").put("isBase64Encoded", false)
                    .put("body", "{\"items\":[" + String.join(",", PRIMING_ITEMS.subList(0, 3)) + "]}");
            event.putObject("headers").put("content-type", "application/json");
            ObjectNode requestContext = event.putObject("requestContext").put("requestId", "prime")
                    .put("timeEpoch", System.currentTimeMillis());
            requestContext.putObject("http").put("method", "POST").put("path", "/batches");
            // not process(): a priming run is no invocation, and its answer must not count in the metrics
            var response = httpBatches.get().answer(event.toString().getBytes(StandardCharsets.UTF_8),
                    Deadline.after(PRIMING_TIME), mapper.createObjectNode());
            return new Priming(events, 3, response.status() == 200 ? 3 : 0);
        }
        // the SQS path with its fan-in, whose results go to a queue in process: the results queue is AWS, and this
        // runs before any invocation
        List<SourceRecord> records = new ArrayList<>();
        for (int i = 0; i < PRIMING_ITEMS.size(); i++) {
            records.add(new SourceRecord("prime-" + i, PRIMING_ITEMS.get(i), Optional.empty(), 1, null, null));
        }
        var queue = new InProcessQueue();
        var sink = new SqsResultsSink(queue, SqsResultsSink.Settings.defaults(StartPriming.QUEUE_URL));
        new RecordBatch(pool, handlers, parser, sink, mapper, new RecordBatch.Settings(Duration.ZERO, false))
                .run(records, false, Deadline.after(PRIMING_TIME), Optional.of(PRIMING_TRACE_ID));
        return new Priming(events, records.size(), queue.accepted());
    }

    /** A trace id of X-Ray's form, so that the results carry the attribute an invocation's results carry. */
    static final String PRIMING_TRACE_ID = "Root=1-00000000-000000000000000000000000";

    /**
     * Accepts every SendMessageBatch entry in process and counts them: the fan-in's own path (streaming, batching,
     * the results' attributes) without a call to AWS. Only the call the fan-in makes is implemented.
     */
    static final class InProcessQueue implements SqsClient {

        private final AtomicInteger accepted = new AtomicInteger();

        @Override
        public SendMessageBatchResponse sendMessageBatch(SendMessageBatchRequest request) {
            accepted.addAndGet(request.entries().size());
            return SendMessageBatchResponse.builder().successful(request.entries().stream()
                    .map(entry -> SendMessageBatchResultEntry.builder().id(entry.id()).messageId("prime-" + entry.id())
                            .build())
                    .toList()).build();
        }

        int accepted() {
            return accepted.get();
        }

        @Override
        public String serviceName() {
            return SERVICE_NAME;
        }

        @Override
        public void close() {
            // nothing held
        }
    }

    private int read(Class<?> type, String json) {
        try {
            return mapper.readerFor(type).readValue(json) == null ? 0 : 1;
        } catch (JsonProcessingException e) {
            LOG.warnf("SnapStart priming: %s not read: %s", type.getSimpleName(), e.getOriginalMessage());
            return 0;
        }
    }

    private void dropConnections() {
        if (http.get().orElse(null) instanceof HttpCallFunction handler) {
            handler.closeIdleConnections();
            handler.forgetHolds();
        }
    }

    /** Enough for the engine's cut-off margin and the priming items, which take milliseconds. */
    static final Duration PRIMING_TIME = Duration.ofSeconds(30);

    // in the events' bean property names, which every mapper reads (Lambda's own casing needs its mapper's settings)
    static final String SAMPLE_SQS_EVENT = "{\"records\":[{\"messageId\":\"prime\",\"receiptHandle\":\"prime\","
            + "\"body\":\"{}\",\"attributes\":{\"ApproximateReceiveCount\":\"1\"},\"messageAttributes\":{},"
            + "\"md5OfBody\":\"99914b932bd37a50b983c5e7c90ae93b\",\"eventSource\":\"aws:sqs\","
            + "\"eventSourceArn\":\"arn:aws:sqs:us-east-1:123456789012:prime\",\"awsRegion\":\"us-east-1\"}]}";
}
