package dev.fanout.function;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.batch.QueuedBatch;
import dev.fanout.batch.RecordBatch;
import dev.fanout.batch.http.HttpAnswer;
import dev.fanout.batch.http.RequestBatch;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.ResultsSink;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.work.AsyncWorkHandler;
import dev.fanout.work.ItemParser;
import dev.fanout.work.ItemType;
import dev.fanout.work.WorkHandler;
import dev.fanout.work.WorkHandlers;
import dev.fanout.work.builtin.DelayHandler;
import dev.fanout.work.builtin.DigestHandler;
import dev.fanout.work.http.HttpHandler;
import dev.fanout.work.http.HttpSettings;
import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;

/** Builds the plain engine, work and fan-in objects from the configuration. */
@ApplicationScoped
public class Wiring {

    private static final Logger LOG = Logger.getLogger(Wiring.class);

    @Produces
    @Singleton
    WorkerPool workerPool(FanoutConfig config) {
        Limits limits = Limits.of(config.maxConcurrency()).withCutoffMargin(config.cutoffMargin())
                .withCancelGrace(config.cancelGrace());
        return new WorkerPool(config.itemTimeout().map(limits::withItemTimeout).orElse(limits));
    }

    /**
     * Every {@link WorkHandler} and {@link AsyncWorkHandler} bean, by its {@link ItemType}. Each bean is
     * built when its first item comes (or when SnapStart primes it), not at start: a function whose items
     * never name {@code http} never loads HttpClient 5.
     */
    @Produces
    @Singleton
    WorkHandlers workHandlers(ObjectMapper mapper, @Any Instance<WorkHandler> blocking,
            @Any Instance<AsyncWorkHandler> async) {
        WorkHandlers.Builder builder = WorkHandlers.builder(mapper);
        for (Instance.Handle<WorkHandler> handle : blocking.handles()) {
            builder.register(typeOf(handle), context -> handle.get().handle(context));
        }
        for (Instance.Handle<AsyncWorkHandler> handle : async.handles()) {
            builder.registerAsync(typeOf(handle), context -> handle.get().handle(context));
        }
        return builder.build();
    }

    private static String typeOf(Instance.Handle<?> handle) {
        return handle.getBean().getQualifiers().stream()
                .filter(ItemType.class::isInstance).map(q -> ((ItemType) q).value()).findFirst()
                .orElseThrow(() -> new IllegalStateException("handler bean " + handle.getBean().getBeanClass().getName()
                        + " has no @ItemType: annotate it with the item type it serves"));
    }

    @Produces
    @Singleton
    ItemParser itemParser(ObjectMapper mapper, FanoutConfig config) {
        return new ItemParser(mapper, config.defaultType());
    }

    @Produces
    @Singleton
    @ItemType(DigestHandler.TYPE)
    WorkHandler digest(FanoutConfig config) {
        return new DigestHandler(config.digestMaxRounds());
    }

    @Produces
    @Singleton
    @ItemType(DelayHandler.TYPE)
    WorkHandler delay(FanoutConfig config) {
        return new DelayHandler(config.delayMax());
    }

    /** The built-in http handler: one pooled client, as many connections as items may run at once. */
    @Produces
    @Singleton
    @ItemType(HttpHandler.TYPE)
    WorkHandler http(FanoutConfig config) {
        FanoutConfig.Http http = config.http();
        return new HttpHandler(new HttpSettings(http.connectTimeout(), http.defaultTimeout(), http.maxBodyBytes(),
                http.maxAttempts(), http.maxRedirects(), http.responseHeaders(),
                http.allow().map(Wiring::trimmed).orElse(List.of()), http.ssrfGuard(), config.maxConcurrency()));
    }

    void closeHttp(@Disposes @ItemType(HttpHandler.TYPE) WorkHandler http) throws Exception {
        if (http instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }

    private static List<String> trimmed(List<String> values) {
        return values.stream().map(String::trim).filter(v -> !v.isEmpty()).toList();
    }

    /**
     * One attempt per call (the sink retries within the deadline), the URL-connection HTTP client (the
     * cheapest at cold start), the region from the Lambda environment, and the credentials Lambda hands out
     * ({@link LambdaCredentials}): environment variables on an on-demand start, the container credentials
     * endpoint under SnapStart. Rebuilt after a SnapStart restore ({@link SnapStartHooks}).
     */
    @Produces
    @Singleton
    @DefaultBean
    SqsClient sqsClient(FanoutConfig config) {
        return new RestorableSqsClient(() -> buildSqsClient(config.results().region(), config.results().endpoint()));
    }

    static SqsClient buildSqsClient(String region, Optional<URI> endpoint) {
        var builder = SqsClient.builder()
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(2))
                        .socketTimeout(Duration.ofSeconds(10))
                        .build())
                .region(Region.of(region))
                .credentialsProvider(LambdaCredentials.chain())
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()));
        endpoint.ifPresent(builder::endpointOverride);
        return builder.build();
    }

    @Produces
    @Singleton
    HttpBatchProcessor httpBatchProcessor(WorkerPool pool, WorkHandlers handlers, ItemParser parser,
            ObjectMapper mapper, FanoutConfig config, Instance<SqsClient> sqs) {
        FanoutConfig.HttpApi api = config.httpApi();
        var settings = new RequestBatch.Settings(api.timeout(), api.maxItems(), HttpAnswer.LAMBDA_RESPONSE_LIMIT,
                api.maxQueuedItems());
        Duration margin = api.cutoffMargin().orElseGet(() -> AnswerTiming.defaultMargin(config.cancelGrace(), api.memoryMb()));
        LOG.infof("HTTP cut-off margin %d ms%s", margin.toMillis(), api.cutoffMargin().isPresent() ? " (configured)"
                : " (derived for a " + HttpAnswer.LAMBDA_RESPONSE_LIMIT + "-byte answer at " + api.memoryMb() + " MB)");
        var httpPool = new WorkerPool(pool.limits().withCutoffMargin(margin));
        // queued mode: the items go to the work queue through a sink of their own, with the results' limits
        Optional<QueuedBatch> workQueue = api.workQueueUrl().filter(url -> !url.isBlank()).map(url -> {
            FanoutConfig.Results r = config.results();
            var queue = new SqsResultsSink.Settings(url, SqsResultsSink.SQS_MAX_BYTES, SqsResultsSink.SQS_MAX_BYTES,
                    r.sendConcurrency(), r.maxAttempts(), r.backoffBase(), r.backoffCap(), r.minCallTime());
            return new QueuedBatch(new SqsResultsSink(sqs.get(), queue), queue.fifo());
        });
        return new HttpBatchProcessor(httpPool, handlers, parser, mapper, settings, workQueue);
    }

    @Produces
    @Singleton
    SqsResultsSink.Settings sinkSettings(FanoutConfig config) {
        FanoutConfig.Results r = config.results();
        String queueUrl = r.queueUrl().orElseThrow(() -> new IllegalStateException(
                "no results queue: set RESULTS_QUEUE_URL (fanout.results.queue-url)"));
        return new SqsResultsSink.Settings(queueUrl, r.maxMessageBytes(), r.maxBatchBytes(), r.sendConcurrency(),
                r.maxAttempts(), r.backoffBase(), r.backoffCap(), r.minCallTime());
    }

    @Produces
    @Singleton
    @DefaultBean
    ResultsSink resultsSink(SqsClient sqs, SqsResultsSink.Settings settings) {
        return new SqsResultsSink(sqs, settings);
    }

    @Produces
    @Singleton
    SqsBatchProcessor sqsBatchProcessor(WorkerPool pool, WorkHandlers handlers, ItemParser parser, ResultsSink sink,
            SqsResultsSink.Settings sinkSettings, ObjectMapper mapper, FanoutConfig config) {
        requireTimeForFanIn(config, sinkSettings);
        return new SqsBatchProcessor(new RecordBatch(pool, handlers, parser, sink, mapper,
                new RecordBatch.Settings(config.responseMargin(), sinkSettings.fifo())));
    }

    /** The stream entry points' batches: the SQS entry point's, with its check. */
    @Produces
    @Singleton
    StreamBatchProcessor streamBatchProcessor(WorkerPool pool, WorkHandlers handlers, ItemParser parser,
            ResultsSink sink, SqsResultsSink.Settings sinkSettings, ObjectMapper mapper, FanoutConfig config) {
        requireTimeForFanIn(config, sinkSettings);
        return new StreamBatchProcessor(new RecordBatch(pool, handlers, parser, sink, mapper,
                new RecordBatch.Settings(config.responseMargin(), sinkSettings.fifo())), parser,
                config.streams().dynamodbType());
    }

    private static void requireTimeForFanIn(FanoutConfig config, SqsResultsSink.Settings sinkSettings) {
        Duration needed = config.cancelGrace().plus(config.responseMargin()).plus(sinkSettings.minCallTime());
        if (config.cutoffMargin().compareTo(needed) <= 0) {
            // otherwise every invocation would cut off too late to send any result, and hand its whole batch back
            throw new IllegalStateException("fanout.cutoff-margin " + config.cutoffMargin() + " leaves no time for"
                    + " fan-in: it must exceed cancel-grace + response-margin + results.min-call-time (" + needed + ")");
        }
    }
}
