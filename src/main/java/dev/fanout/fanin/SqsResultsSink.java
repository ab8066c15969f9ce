package dev.fanout.fanin;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

import dev.fanout.engine.Deadline;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.EmptyBatchRequestException;

/**
 * Sends results to an SQS queue with SendMessageBatch: at most 10 entries and {@code maxBatchBytes} per
 * request, batches in parallel (one after another for a FIFO queue, to keep each group's order).
 * <p>
 * A message counts as delivered only when SQS lists it under {@code Successful}. Entries listed under
 * {@code Failed} (even in an HTTP 200 answer), throttled calls, 5xx answers and network errors are
 * retried with capped exponential backoff and full jitter, while attempts and the deadline allow.
 * Entries SQS refuses as the sender's fault are not retried. The sink never throws: what it could not
 * deliver it reports, and the caller hands those records back to SQS.
 * <p>
 * The client should make one attempt per call (the sink does the retrying, within the deadline).
 * <p>
 * The sink holds the queue's settings and hands the work out: {@link SqsDelivery} is one delivery (packing, retries,
 * refusals, FIFO rounds), {@link SendStream} the streaming form of it, {@link SqsErrors} what an error means.
 */
public final class SqsResultsSink implements ResultsSink {

    /** SQS's own limits: entries per SendMessageBatch, and bytes per message and per batch (since 2025-08). */
    public static final int MAX_ENTRIES = 10;
    public static final int SQS_MAX_BYTES = 1_048_576;
    /**
     * Connection failures in a row (refused, no route, unknown host) after which a delivery stops: the
     * queue cannot be reached, and retrying until the deadline would only bill the whole timeout.
     */
    public static final int MAX_CONNECT_FAILURES = 3;
    /**
     * How long a streamed result may wait for others to fill its request. Results of a running batch come
     * in bursts (a slot's end starts the next item), so a few milliseconds fill most requests, and the wait
     * is small beside a SendMessageBatch call's 10-30 ms.
     */
    public static final Duration LINGER = Duration.ofMillis(5);

    /**
     * @param queueUrl        the results queue; a URL ending in {@code .fifo} means a FIFO queue
     * @param maxMessageBytes largest message, at most 1 MiB; checked here and nowhere else ({@link SqsDelivery#withinSizeLimit(int)})
     * @param maxBatchBytes   largest SendMessageBatch payload, at most 1 MiB
     * @param sendConcurrency batches in flight at once (standard queues)
     * @param maxAttempts     attempts per entry, first one included
     * @param backoffBase     first backoff ceiling; doubles per attempt
     * @param backoffCap      largest backoff ceiling
     * @param minCallTime     no call is started with less time than this left
     */
    public record Settings(String queueUrl, int maxMessageBytes, int maxBatchBytes, int sendConcurrency,
            int maxAttempts, Duration backoffBase, Duration backoffCap, Duration minCallTime) {

        public Settings {
            Objects.requireNonNull(queueUrl, "queueUrl");
            if (queueUrl.isBlank()) {
                throw new IllegalArgumentException("the results queue URL is empty: set RESULTS_QUEUE_URL");
            }
            check("maxMessageBytes", maxMessageBytes, 1, SQS_MAX_BYTES);
            check("maxBatchBytes", maxBatchBytes, maxMessageBytes, SQS_MAX_BYTES);
            check("sendConcurrency", sendConcurrency, 1, 1024);
            check("maxAttempts", maxAttempts, 1, 100);
        }

        public boolean fifo() {
            return queueUrl.endsWith(".fifo");
        }

        private static void check(String name, int value, int min, int max) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(name + " must be between " + min + " and " + max + ", was " + value);
            }
        }
    }

    private final SqsClient sqs;
    private final Settings settings;

    public SqsResultsSink(SqsClient sqs, Settings settings) {
        this.sqs = Objects.requireNonNull(sqs, "sqs");
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    public Settings settings() {
        return settings;
    }

    /** The longest the init-time warm-up call may take. */
    public static final Duration WARM_UP_TIMEOUT = Duration.ofSeconds(2);

    /**
     * Builds the client's request path (class loading, signing, HTTP connection) before the first
     * invocation needs it, with an empty SendMessageBatch that SQS refuses cheaply: a cold client can take
     * longer than the time a batch leaves for its fan-in. Needs no permission beyond sqs:SendMessage.
     *
     * @return how the queue answered, for the start-up log
     */
    public String warmUp() {
        try {
            // a hard limit: Lambda's init phase has 10 s, and an endpoint that accepts and never answers would
            // otherwise hold the init for the client's whole socket timeout
            sqs.sendMessageBatch(r -> r.queueUrl(settings.queueUrl()).entries(List.of())
                    .overrideConfiguration(o -> o.apiCallTimeout(WARM_UP_TIMEOUT).apiCallAttemptTimeout(WARM_UP_TIMEOUT)));
            return "accepted an empty batch";
        } catch (EmptyBatchRequestException expected) {
            return "reachable";
        } catch (SdkException e) {
            return "not reachable yet: " + SqsErrors.describe(e);
        }
    }

    @Override
    public Delivery deliver(List<ResultMessage> messages, Deadline deadline) {
        var send = new SqsDelivery(sqs, settings, messages, deadline);
        List<Integer> sendable = send.withinSizeLimit();
        if (settings.fifo()) {
            send.inGroupOrder(sendable);
        } else {
            send.inParallel(send.pack(sendable));
        }
        return send.delivery();
    }

    @Override
    public ResultStream open(int capacity, Deadline deadline) {
        return new SendStream(new SqsDelivery(sqs, settings, capacity, deadline), settings);
    }
}
