package dev.fanout.fanin;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

import dev.fanout.engine.Backoff;
import dev.fanout.engine.Deadline;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchResponse;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchResultEntry;

/**
 * Gives handed-back records a new visibility timeout with {@code ChangeMessageVisibilityBatch}: at most 10
 * entries per request, requests in parallel, by a deadline. The retry rules are the results sink's ({@link SqsDelivery}):
 * entries SQS lists under {@code Failed} that are not the sender's fault, throttled calls, 5xx answers and
 * network errors are retried with capped exponential backoff and full jitter while attempts and the deadline
 * allow, and no call starts with less than {@code minCallTime} left; an entry refused as the sender's fault (an
 * expired or foreign receipt handle, a message no longer in flight) is not retried, and a whole request refused
 * so is halved until the refused entry stands alone, so that one bad handle costs no other record its change.
 * <p>
 * It never throws. A change that did not happen is reported; its record still comes back, at the queue's own
 * visibility timeout: a change is a delay, never what keeps a record.
 */
public final class SqsVisibility {

    /**
     * @param concurrency requests in flight at once
     * @param maxAttempts attempts per entry, first one included
     * @param backoffBase first backoff ceiling; doubles per attempt
     * @param backoffCap  largest backoff ceiling
     * @param minCallTime no call is started with less time than this left
     */
    public record Settings(int concurrency, int maxAttempts, Duration backoffBase, Duration backoffCap,
            Duration minCallTime) {
        public Settings {
            if (concurrency < 1 || maxAttempts < 1) {
                throw new IllegalArgumentException("concurrency and max attempts must be at least 1, were " + concurrency
                        + " and " + maxAttempts);
            }
            Objects.requireNonNull(backoffBase, "backoffBase");
            Objects.requireNonNull(backoffCap, "backoffCap");
            Objects.requireNonNull(minCallTime, "minCallTime");
        }

        public static Settings defaults() {
            return new Settings(8, 3, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofMillis(50));
        }
    }

    /** One record's change: its queue, its receipt handle, and its new visibility timeout in whole seconds. */
    public record Change(String queueUrl, String receiptHandle, Duration timeout) {
        public Change {
            Objects.requireNonNull(queueUrl, "queueUrl");
            Objects.requireNonNull(receiptHandle, "receiptHandle");
            Objects.requireNonNull(timeout, "timeout");
        }
    }

    /**
     * What became of the changes.
     *
     * @param failures for each change, null if SQS confirmed it, else why not
     * @param requests ChangeMessageVisibilityBatch calls made
     * @param retries  retries of calls or entries
     * @param throttled calls or entries SQS throttled
     */
    public record Result(List<String> failures, int requests, int retries, int throttled) {

        public boolean changed(int index) {
            return failures.get(index) == null;
        }

        public int changedCount() {
            return (int) failures.stream().filter(Objects::isNull).count();
        }
    }

    static final String NOT_BEFORE_DEADLINE = "not changed before the deadline";

    private final SqsClient sqs;
    private final Settings settings;

    public SqsVisibility(SqsClient sqs, Settings settings) {
        this.sqs = Objects.requireNonNull(sqs, "sqs");
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** Changes what it can of {@code changes} by {@code deadline}; returns by the deadline. */
    public Result change(List<Change> changes, Deadline deadline) {
        var run = new Run(changes, deadline);
        Map<String, List<Integer>> byQueue = new LinkedHashMap<>();
        for (int i = 0; i < changes.size(); i++) {
            byQueue.computeIfAbsent(changes.get(i).queueUrl(), q -> new ArrayList<>()).add(i);
        }
        List<List<Integer>> batches = new ArrayList<>();
        byQueue.values().forEach(indexes -> {
            for (int from = 0; from < indexes.size(); from += SqsResultsSink.MAX_ENTRIES) {
                batches.add(indexes.subList(from, Math.min(from + SqsResultsSink.MAX_ENTRIES, indexes.size())));
            }
        });
        run.inParallel(batches);
        List<String> failures = new ArrayList<>(changes.size());
        for (int i = 0; i < changes.size(); i++) {
            failures.add(run.failures.get(i));
        }
        return new Result(failures, run.requests.get(), run.retries.get(), run.throttled.get());
    }

    /** One call of {@link #change}. */
    private final class Run {
        final List<Change> changes;
        final Deadline deadline;
        final AtomicReferenceArray<String> failures;
        final AtomicInteger requests = new AtomicInteger();
        final AtomicInteger retries = new AtomicInteger();
        final AtomicInteger throttled = new AtomicInteger();

        Run(List<Change> changes, Deadline deadline) {
            this.changes = changes;
            this.deadline = deadline;
            this.failures = new AtomicReferenceArray<>(changes.size());
            for (int i = 0; i < changes.size(); i++) {
                failures.set(i, NOT_BEFORE_DEADLINE);
            }
        }

        void inParallel(List<List<Integer>> batches) {
            // what is unconfirmed at the deadline stays unchanged
            BatchWorkers.inParallel("fanout-visibility-", settings.concurrency(), batches, deadline, this::withRetries);
        }

        void withRetries(List<Integer> batch) {
            List<Integer> pending = batch;
            String reason = null;
            for (int attempt = 1; !pending.isEmpty(); attempt++) {
                Duration left = deadline.remaining();
                if (left.compareTo(settings.minCallTime()) < 0) {
                    fail(pending, reason == null ? "no time left to change the visibility"
                            : "no time left to retry: " + reason);
                    return;
                }
                String queueUrl = changes.get(pending.getFirst()).queueUrl();
                List<ChangeMessageVisibilityBatchRequestEntry> entries = new ArrayList<>(pending.size());
                for (int index : pending) {
                    Change change = changes.get(index);
                    entries.add(ChangeMessageVisibilityBatchRequestEntry.builder().id(Integer.toString(index))
                            .receiptHandle(change.receiptHandle())
                            .visibilityTimeout(Math.toIntExact(change.timeout().toSeconds())).build());
                }
                try {
                    requests.incrementAndGet();
                    ChangeMessageVisibilityBatchResponse response = sqs.changeMessageVisibilityBatch(r -> r
                            .queueUrl(queueUrl).entries(entries).overrideConfiguration(o -> o.apiCallTimeout(left)));
                    for (ChangeMessageVisibilityBatchResultEntry ok : response.successful()) {
                        failures.set(Integer.parseInt(ok.id()), null);
                    }
                    List<Integer> again = new ArrayList<>();
                    for (BatchResultErrorEntry failed : response.failed()) {
                        int index = Integer.parseInt(failed.id());
                        String why = "SQS refused the change: " + failed.code() + " " + failed.message();
                        failures.set(index, why);
                        if (SqsErrors.isThrottle(failed.code())) {
                            throttled.incrementAndGet();
                        }
                        if (!Boolean.TRUE.equals(failed.senderFault())) {
                            again.add(index);
                            reason = why;
                        }
                    }
                    pending = again;
                } catch (SdkException e) {
                    reason = "ChangeMessageVisibilityBatch failed: " + SqsErrors.describe(e);
                    fail(pending, reason);
                    if (e instanceof AwsServiceException service && service.isThrottlingException()) {
                        throttled.incrementAndGet();
                    }
                    if (SqsErrors.isSenderFault(e)) {
                        if (pending.size() > 1) {
                            int half = pending.size() / 2;
                            withRetries(new ArrayList<>(pending.subList(0, half)));
                            withRetries(new ArrayList<>(pending.subList(half, pending.size())));
                        }
                        return;
                    }
                    if (!SqsErrors.retryable(e)) {
                        return;
                    }
                }
                if (pending.isEmpty()) {
                    return;
                }
                if (attempt >= settings.maxAttempts()) {
                    fail(pending, "gave up after " + attempt + (attempt == 1 ? " attempt: " : " attempts: ") + reason);
                    return;
                }
                long pause = new Backoff(settings.backoffBase(), settings.backoffCap()).pause(attempt).toNanos();
                if (deadline.remainingNanos() - pause < settings.minCallTime().toNanos()) {
                    fail(pending, "no time left to retry: " + reason);
                    return;
                }
                retries.incrementAndGet();
                try {
                    Thread.sleep(Duration.ofNanos(pause));
                } catch (InterruptedException e) {
                    fail(pending, "interrupted before retrying: " + reason);
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        private void fail(List<Integer> indexes, String why) {
            for (int index : indexes) {
                failures.set(index, why);
            }
        }
    }
}
