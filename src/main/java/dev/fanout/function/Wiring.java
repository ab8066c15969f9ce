package dev.fanout.function;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.time.Clock;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.batch.QueuedBatch;
import dev.fanout.batch.RecordBatch;
import dev.fanout.batch.Redelivery;
import dev.fanout.batch.RedeliveryBackoff;
import dev.fanout.batch.http.HttpAnswer;
import dev.fanout.batch.http.RequestBatch;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.QueueUrls;
import dev.fanout.fanin.ResultsSink;
import dev.fanout.fanin.SqsVisibility;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.function.idempotency.DynamoDbClients;
import dev.fanout.function.idempotency.DynamoDbIdempotencyStore;
import dev.fanout.function.idempotency.LazyIdempotencyStore;
import dev.fanout.startup.LambdaCredentials;
import dev.fanout.startup.RestorableSqsClient;
import dev.fanout.work.FunqyRegistry;
import dev.fanout.work.Idempotency;
import dev.fanout.work.IdempotencyStore;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.ItemParser;
import dev.fanout.work.builtin.DelayFunction;
import dev.fanout.work.builtin.DigestFunction;
import dev.fanout.work.http.HttpSettings;
import io.quarkus.arc.DefaultBean;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.builder.SdkSyncClientBuilder;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.sqs.SqsClient;

/** Builds the plain engine, work and fan-in objects from the configuration. */
@ApplicationScoped
public class Wiring {

    private static final Logger LOG = Logger.getLogger(Wiring.class);

    @Produces
    @Singleton
    WorkerPool workerPool(FanoutConfig config) {
        TimeBudget budget = TimeBudget.of(config);
        Limits limits = Limits.of(config.maxConcurrency()).withCutoffMargin(budget.cutoffMargin())
                .withCancelGrace(budget.cancelGrace());
        return new WorkerPool(config.itemTimeout().map(limits::withItemTimeout).orElse(limits));
    }

    /**
     * The item types: every {@code @Funq} function of the application (the built-in {@code http}, {@code digest}
     * and {@code delay} among them), checked at start ({@link #checkFunctions}). Each function's bean is built
     * when its first item comes (or when SnapStart primes it), not at start: a function whose items never name
     * {@code http} never loads HttpClient 5.
     */
    @Produces
    @Singleton
    ItemFunctions itemFunctions(ObjectMapper mapper, Idempotency idempotency, FanoutConfig config) {
        // the default type is checked with the other settings (ConfigChecks)
        return FunqyRegistry.functions(mapper, idempotency, AdaptiveLimits.serviceLimits(config));
    }

    /**
     * The idempotent functions' store: its DynamoDB client is built when the first idempotent item comes, not at
     * start (no cost for the functions that are not idempotent, nor at a start that runs none).
     */
    @Produces
    @Singleton
    Idempotency idempotency(FanoutConfig config, DynamoDbClients clients) {
        FanoutConfig.Idempotency settings = config.idempotency();
        Set<String> byName = new TreeSet<>(settings.functions().map(Wiring::trimmed).orElse(List.of()));
        return new Idempotency(settings.table().filter(t -> !t.isBlank()).map(table -> (IdempotencyStore)
                new LazyIdempotencyStore(() -> new DynamoDbIdempotencyStore(clients.build(
                        config.results().region(), settings.endpoint()), table))).orElse(null),
                settings.ttl(), byName, Clock.systemUTC());
    }

    /** The store's client: the same set-up as the SQS client's (one attempt per call, Lambda's credentials). */
    @Produces
    @Singleton
    @DefaultBean
    DynamoDbClients dynamoDbClients() {
        return Wiring::buildDynamoDbClient;
    }

    static DynamoDbClient buildDynamoDbClient(String region, Optional<URI> endpoint) {
        return lambdaClient(DynamoDbClient.builder(), region, endpoint);
    }

    /** Fails the start, naming the method, if a function cannot be an item type: no item runs against a broken registry. */
    void checkFunctions(@Observes StartupEvent start, ItemFunctions functions) {
        LOG.debugf("item types: %s", functions.types());
    }

    @Produces
    @Singleton
    ItemParser itemParser(ObjectMapper mapper, FanoutConfig config) {
        return new ItemParser(mapper, config.defaultType());
    }

    @Produces
    @Singleton
    DigestFunction.Settings digestSettings(FanoutConfig config) {
        return new DigestFunction.Settings(config.digestMaxRounds());
    }

    @Produces
    @Singleton
    DelayFunction.Settings delaySettings(FanoutConfig config) {
        return new DelayFunction.Settings(config.delayMax());
    }

    /** The built-in http function's settings: one pooled client, as many connections as items may run at once. */
    @Produces
    @Singleton
    public static HttpSettings httpSettings(FanoutConfig config) {
        FanoutConfig.Http http = config.http();
        return new HttpSettings(http.connectTimeout(), http.defaultTimeout(), http.maxBodyBytes(),
                http.maxAttempts(), http.maxRedirects(), http.responseHeaders(),
                http.allow().map(Wiring::trimmed).orElse(List.of()), http.ssrfGuard(), config.maxConcurrency(),
                http.holdAfterFailures());
    }

    private static List<String> trimmed(List<String> values) {
        return values.stream().map(String::trim).filter(v -> !v.isEmpty()).toList();
    }

    /**
     * One attempt per call (the sink retries within the deadline), the URL-connection HTTP client (the
     * cheapest at cold start), the region from the Lambda environment, and the credentials Lambda hands out
     * ({@link LambdaCredentials}): environment variables on an on-demand start, the container credentials
     * endpoint under SnapStart. Rebuilt after a SnapStart restore ({@code SnapStartHooks}).
     */
    @Produces
    @Singleton
    @DefaultBean
    SqsClient sqsClient(FanoutConfig config) {
        return new RestorableSqsClient(() -> buildSqsClient(config.results().region(), config.results().endpoint()));
    }

    static SqsClient buildSqsClient(String region, Optional<URI> endpoint) {
        return lambdaClient(SqsClient.builder(), region, endpoint);
    }

    /**
     * An AWS client as the function's clients are built: the URL-connection HTTP client (the cheapest at cold
     * start), the region from the Lambda environment, the credentials Lambda hands out ({@link LambdaCredentials}),
     * no SDK retries (the callers retry within their deadline), and an endpoint override when one is set.
     */
    static <B extends AwsClientBuilder<B, C> & SdkSyncClientBuilder<B, C>, C> C lambdaClient(B builder, String region,
            Optional<URI> endpoint) {
        builder.httpClient(UrlConnectionHttpClient.builder()
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
    HttpBatchProcessor httpBatchProcessor(WorkerPool pool, ItemFunctions handlers, ItemParser parser,
            ObjectMapper mapper, FanoutConfig config, Instance<SqsClient> sqs) {
        FanoutConfig.HttpApi api = config.httpApi();
        var settings = new RequestBatch.Settings(api.timeout(), api.maxItems(), HttpAnswer.LAMBDA_RESPONSE_LIMIT,
                api.maxQueuedItems());
        TimeBudget budget = TimeBudget.of(config);
        Duration margin = budget.httpCutoffMargin();
        LOG.infof("HTTP cut-off margin %d ms%s", margin.toMillis(), budget.httpConfigured() ? " (configured)"
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
    public static SqsResultsSink.Settings sinkSettings(FanoutConfig config) {
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
    SqsBatchProcessor sqsBatchProcessor(WorkerPool pool, ItemFunctions handlers, ItemParser parser, ResultsSink sink,
            SqsResultsSink.Settings sinkSettings, ObjectMapper mapper, FanoutConfig config, Instance<SqsClient> sqs) {
        var batch = new RecordBatch(pool, handlers, parser, sink, mapper,
                new RecordBatch.Settings(TimeBudget.of(config).responseMargin(), sinkSettings.fifo()));
        FanoutConfig.Retry retry = config.retry();
        if (!retry.backoff()) {
            return new SqsBatchProcessor(batch);
        }
        Redelivery redelivery = redelivery(config, sqs.get());
        Optional<String> fixedUrl = retry.queueUrl().map(String::trim).filter(url -> !url.isEmpty());
        Optional<URI> endpoint = config.results().endpoint();
        return new SqsBatchProcessor(batch, Optional.of(redelivery),
                arn -> fixedUrl.isPresent() ? fixedUrl : QueueUrls.fromArn(arn, endpoint));
    }

    /** The stream entry points' batches: the SQS entry point's (ConfigChecks checks their settings at start). */
    @Produces
    @Singleton
    StreamBatchProcessor streamBatchProcessor(WorkerPool pool, ItemFunctions handlers, ItemParser parser,
            ResultsSink sink, SqsResultsSink.Settings sinkSettings, ObjectMapper mapper, FanoutConfig config) {
        return new StreamBatchProcessor(new RecordBatch(pool, handlers, parser, sink, mapper,
                new RecordBatch.Settings(TimeBudget.of(config).responseMargin(), sinkSettings.fifo())), parser,
                config.streams().dynamodbType());
    }

    /** The backoff of handed-back records, checked at start: a bad setting fails the start, not an invocation. */
    static Redelivery redelivery(FanoutConfig config, SqsClient sqs) {
        FanoutConfig.Retry retry = config.retry();
        RedeliveryBackoff.Jitter jitter = switch (retry.jitter().trim().toLowerCase(java.util.Locale.ROOT)) {
            case "full" -> RedeliveryBackoff.Jitter.FULL;
            case "decorrelated" -> RedeliveryBackoff.Jitter.DECORRELATED;
            default -> throw new IllegalStateException("fanout.retry.jitter must be full or decorrelated, was "
                    + retry.jitter());
        };
        RedeliveryBackoff.Settings settings;
        try {
            settings = new RedeliveryBackoff.Settings(retry.baseDelay(), retry.maxDelay(), retry.unfinishedDelay(), jitter);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("fanout.retry: " + e.getMessage(), e);
        }
        if (retry.responseReserve().isNegative() || retry.responseReserve().compareTo(config.responseMargin()) >= 0) {
            // the visibility changes run inside the response margin, and must leave the reserve of it for the answer
            throw new IllegalStateException("fanout.retry.response-reserve " + retry.responseReserve()
                    + " must be at least zero and below fanout.response-margin " + config.responseMargin());
        }
        FanoutConfig.Results r = config.results();
        var visibility = new SqsVisibility(sqs, new SqsVisibility.Settings(Math.min(r.sendConcurrency(), 8),
                Math.min(r.maxAttempts(), 3), r.backoffBase(), r.backoffCap(), r.minCallTime()));
        return new Redelivery(new RedeliveryBackoff(settings), visibility, retry.responseReserve());
    }
}
