package dev.fanout.function;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import dev.fanout.work.http.ServiceHolds;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Fanout's settings. Each one can be set from the environment: {@code fanout.max-concurrency} is
 * {@code FANOUT_MAX_CONCURRENCY}, {@code fanout.results.queue-url} is {@code FANOUT_RESULTS_QUEUE_URL}
 * (or {@code RESULTS_QUEUE_URL}), and so on.
 */
@ConfigMapping(prefix = "fanout")
public interface FanoutConfig {

    /** Most items running at once in one invocation. */
    @WithDefault("500")
    int maxConcurrency();

    /** Optional limit on one item's running time. */
    Optional<Duration> itemTimeout();

    /**
     * Time kept back from the invocation's deadline for fan-in and the response: the engine stops
     * starting items and cancels running ones this long before the deadline.
     */
    @WithDefault("3s")
    Duration cutoffMargin();

    /** After the cut-off, how long to wait for cancelled items to stop. */
    @WithDefault("100ms")
    Duration cancelGrace();

    /** Time kept back from the deadline for writing the response, after fan-in. */
    @WithDefault("250ms")
    Duration responseMargin();

    /**
     * The time an invocation gets when the runtime gives no deadline (dev and test mode's mock event
     * server). On Lambda the deadline always comes from the invocation.
     */
    @WithDefault("30s")
    Duration fallbackTimeout();

    /**
     * Whether the JVM start primes what the first event needs on threads of its own while Quarkus starts
     * ({@code StartPriming}). Read by the handler class before Quarkus starts, from the system property or the
     * environment variable {@code FANOUT_START_PRIMING}; declared here so that it is a known setting.
     */
    @WithDefault("true")
    boolean startPriming();

    /** The item type of items that name none. */
    Optional<String> defaultType();

    Results results();

    Idempotency idempotency();

    HttpApi httpApi();

    Http http();

    /** The adaptive concurrency limits per downstream service (docs/adaptive-limits.md). */
    Adaptive adaptive();

    Retry retry();

    Streams streams();

    /** Largest number of SHA-256 rounds of a {@code digest} item. */
    @WithDefault("1000000")
    int digestMaxRounds();

    /** Longest wait of a {@code delay} item. */
    @WithDefault("15m")
    Duration delayMax();

    interface Results {

        /** The results queue (env {@code RESULTS_QUEUE_URL}); a URL ending in .fifo means a FIFO queue. */
        Optional<String> queueUrl();

        /** Another SQS endpoint, for local runs (ElasticMQ); AWS's regional endpoint when absent. */
        Optional<URI> endpoint();

        /** The region (env {@code AWS_REGION}, which Lambda sets). */
        @WithDefault("us-east-1")
        String region();

        @WithDefault("1048576")
        int maxMessageBytes();

        @WithDefault("1048576")
        int maxBatchBytes();

        /** SendMessageBatch calls in flight at once (standard queues; FIFO sends one at a time). */
        @WithDefault("32")
        int sendConcurrency();

        /** Attempts per result, the first one included. */
        @WithDefault("5")
        int maxAttempts();

        @WithDefault("50ms")
        Duration backoffBase();

        @WithDefault("1s")
        Duration backoffCap();

        @WithDefault("50ms")
        Duration minCallTime();
    }

    /** The API Gateway entry point. */
    /** Idempotent functions' store (docs/idempotency.md). */
    interface Idempotency {
        /** The DynamoDB table of the records; unset: no function may be idempotent. */
        Optional<String> table();

        /** How long a completed run's record serves redeliveries. */
        @WithDefault("1h")
        Duration ttl();

        /** Functions made idempotent by name, keyed by the item's id (beside those marked {@code @Idempotent}). */
        Optional<List<String>> functions();

        /** The store's endpoint (tests, local servers); unset: DynamoDB's, in the results' region. */
        Optional<URI> endpoint();
    }

    interface HttpApi {

        /** The API's integration timeout: HTTP APIs stop waiting after at most 30 s. */
        @WithDefault("29s")
        Duration timeout();

        /**
         * The cut-off margin of HTTP batches: only the response is left to do after the engine. Unset, it is
         * derived from the size of the largest answer ({@link TimeBudget#derivedHttpMargin}): cancel grace + 3 x
         * the time to assemble, write and hand over an answer of Lambda's limit on one vCPU (a benchmark's
         * figure), scaled up for a function with less than one vCPU.
         */
        Optional<Duration> cutoffMargin();

        /**
         * The function's memory size in MB (env {@code AWS_LAMBDA_FUNCTION_MEMORY_SIZE}, which Lambda sets):
         * Lambda gives CPU in proportion to it, which the derived cut-off margin allows for.
         */
        @WithDefault("1769")
        int memoryMb();

        /** Most items one request runs synchronously; more are queued (with a work queue) or refused (413). */
        @WithDefault("1000")
        int maxItems();

        /** Most items one request may queue (queued mode). */
        @WithDefault("10000")
        int maxQueuedItems();

        /**
         * The work queue (env {@code WORK_QUEUE_URL}): requests with {@code Prefer: respond-async}, or over the
         * synchronous limits, put their items there. Without it there is no queued mode.
         */
        Optional<String> workQueueUrl();
    }

    /**
     * When a handed-back SQS record comes back ({@code RedeliveryBackoff}, docs/reliability.md): each gets a new
     * visibility timeout before the response returns.
     */
    interface Retry {

        /** Delay handed-back records; false leaves them to the queue's visibility timeout. */
        @WithDefault("true")
        boolean backoff();

        /**
         * The first ceiling of the exponential backoff; doubles per delivery. Whole seconds. 10 s: a throttled or
         * briefly failing service gets a breather of seconds, and the 5th delivery's ceiling is 160 s.
         */
        @WithDefault("10s")
        Duration baseDelay();

        /**
         * The longest delay, whole seconds, at most SQS's 12 h (refused at start beyond). 15 min: long enough for a
         * service to recover from an incident, short enough that a record is not forgotten for hours.
         */
        @WithDefault("15m")
        Duration maxDelay();

        /** The delay of a record that did not fail (timed out or not started at the cut-off). Whole seconds. */
        @WithDefault("2s")
        Duration unfinishedDelay();

        /**
         * {@code decorrelated} (from the base to 3 × the previous ceiling) or {@code full} (from zero to the ceiling)
         * jitter. Decorrelated: its floor of one base per delivery keeps a minute-long outage from using up a
         * record's deliveries (RedeliveryFigures: 0.4 % of records dead-lettered after 5 deliveries, full jitter 31 %).
         */
        @WithDefault("decorrelated")
        String jitter();

        /**
         * Time kept back from the deadline after the visibility changes, for writing the response: the changes
         * run between fan-in's end and the deadline less this, inside the response margin. Below response-margin.
         */
        @WithDefault("100ms")
        Duration responseReserve();

        /**
         * The source queue's URL, for a source whose URL cannot be read from its records' eventSourceARN; unset,
         * each record's ARN gives it (with fanout.results.endpoint, the override's host).
         */
        Optional<String> queueUrl();
    }

    interface Http {

        @WithDefault("2s")
        Duration connectTimeout();

        @WithDefault("10s")
        Duration defaultTimeout();

        @WithDefault("65536")
        int maxBodyBytes();

        @WithDefault("2")
        int maxAttempts();

        @WithDefault("3")
        int maxRedirects();

        @WithDefault("content-type,content-length,etag,last-modified,location,retry-after")
        List<String> responseHeaders();

        /** Host names and CIDR ranges the SSRF guard lets through (loopback for local runs). */
        Optional<List<String>> allow();

        /** The SSRF guard; on unless turned off. */
        @WithDefault("true")
        boolean ssrfGuard();

        /**
         * Failures of a service in a row (a 503 without Retry-After, a refused connection) after which its items are
         * held, not sent, for 1 s, then 2 s, 4 s ... up to a minute while the first call after each hold fails
         * ({@code ServiceHolds}); 0 holds a service only when it asks (Retry-After). 5: a few failures of a
         * service that is up do not hold it, and a batch's first wave against one that is down costs few calls.
         */
        @WithDefault("" + ServiceHolds.HOLD_AFTER_FAILURES)
        int holdAfterFailures();
    }

    /** The per-service limits: their algorithm and bounds, each justified in docs/adaptive-limits.md. */
    interface Adaptive {

        /** On for {@code http} items and {@code WorkContext.permit}; off, every permit comes at once. */
        @WithDefault("true")
        boolean enabled();

        /** {@code aimd}, {@code vegas} or {@code gradient2}. */
        @WithDefault("aimd")
        String algorithm();

        /** A service's limit when first seen, and after a SnapStart restore. */
        @WithDefault("20")
        int initialLimit();

        @WithDefault("2")
        int minLimit();

        /** Never above {@code fanout.max-concurrency}. */
        @WithDefault("1000")
        int maxLimit();

        /** Services tracked at once; the least recently used is forgotten. */
        @WithDefault("256")
        int maxServices();
    }

    /** The stream entry points ({@code kinesis}, {@code dynamodb}). */
    interface Streams {

        /**
         * The item type a DynamoDB stream record becomes (its payload: the change in plain JSON). Without it every
         * DynamoDB record is rejected, with a result that says so.
         */
        Optional<String> dynamodbType();
    }
}
