package dev.fanout.fanin;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

import dev.fanout.engine.Backoff;
import dev.fanout.engine.Deadline;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResultEntry;

/** One delivery: a message is undelivered until SQS confirms it. */
final class SqsDelivery {

    private final SqsClient sqs;
    private final SqsResultsSink.Settings settings;
    /** What goes out for each index: the result, or the minimal error result that replaced it. */
    final AtomicReferenceArray<ResultMessage> messages;
    final AtomicReferenceArray<ResultMessage> original;
    final Deadline deadline;
    final AtomicReferenceArray<String> failures;
    final AtomicReferenceArray<String> messageIds;
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger retries = new AtomicInteger();
    final AtomicInteger throttled = new AtomicInteger();
    final AtomicInteger refused = new AtomicInteger();
    final AtomicInteger tooLarge = new AtomicInteger();
    final AtomicInteger connectFailuresInARow = new AtomicInteger();
    volatile String unreachable;

    SqsDelivery(SqsClient sqs, SqsResultsSink.Settings settings, List<ResultMessage> messages, Deadline deadline) {
        this(sqs, settings, messages.size(), deadline);
        for (int i = 0; i < messages.size(); i++) {
            set(i, messages.get(i));
        }
    }

    /** A send whose messages are {@link #set} as they come. */
    SqsDelivery(SqsClient sqs, SqsResultsSink.Settings settings, int capacity, Deadline deadline) {
        this.sqs = sqs;
        this.settings = settings;
        this.original = new AtomicReferenceArray<>(capacity);
        this.messages = new AtomicReferenceArray<>(capacity);
        this.deadline = deadline;
        this.failures = new AtomicReferenceArray<>(capacity);
        this.messageIds = new AtomicReferenceArray<>(capacity);
        for (int i = 0; i < capacity; i++) {
            failures.set(i, "not sent before the deadline");
        }
    }

    void set(int index, ResultMessage message) {
        original.set(index, message);
        messages.set(index, message);
    }

    /** Indexes in order; a result above the message limit is replaced (see {@link #withinSizeLimit(int)}). */
    List<Integer> withinSizeLimit() {
        List<Integer> sendable = new ArrayList<>(messages.length());
        for (int i = 0; i < messages.length(); i++) {
            if (withinSizeLimit(i)) {
                sendable.add(i);
            }
        }
        return sendable;
    }

    /**
     * The one check of the message limit: whether message {@code i} may be sent. A result above it is replaced by
     * its smaller form (its output dropped, the reason given) if its substitution has one that fits, else by its
     * minimal error result; anything else above it is not sent.
     */
    boolean withinSizeLimit(int i) {
        ResultMessage message = messages.get(i);
        int size = message.sizeInBytes();
        int limit = settings.maxMessageBytes();
        if (size <= limit) {
            return true;
        }
        var smaller = message.withinLimit(size, limit).filter(m -> m.sizeInBytes() <= limit);
        if (smaller.isPresent()) {
            set(i, smaller.get()); // the smaller form is what goes out: a refusal of it gets the minimal error result
            tooLarge.incrementAndGet();
            return true;
        }
        if (!refuse(i, "the result is " + size + " bytes, more than the " + limit + "-byte message limit")) {
            failures.set(i, "message of " + size + " bytes exceeds the " + limit + "-byte limit");
            return false;
        }
        return true;
    }

    Delivery delivery() {
        int n = messages.length();
        List<String> failureList = new ArrayList<>(n);
        List<String> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String failure = failures.get(i);
            failureList.add(failure);
            ids.add(failure == null ? messageIds.get(i) : null);
        }
        return new Delivery(failureList, requests.get(), retries.get(), throttled.get(), ids, refused.get(),
                tooLarge.get(), unreachable != null);
    }

    /** Groups message indexes in order into batches within the entry and byte limits. */
    List<List<Integer>> pack(List<Integer> indexes) {
        List<List<Integer>> batches = new ArrayList<>();
        List<Integer> current = new ArrayList<>();
        int bytes = 0;
        for (int i : indexes) {
            int size = messages.get(i).sizeInBytes();
            if (current.size() == SqsResultsSink.MAX_ENTRIES || bytes + size > settings.maxBatchBytes()) {
                batches.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(i);
            bytes += size;
        }
        if (!current.isEmpty()) {
            batches.add(current);
        }
        return batches;
    }

    /**
     * FIFO: in rounds, each request holding at most one result per group, the earliest unconfirmed one.
     * SQS may refuse one entry of a request and store the others, so two results of a group in one
     * request could land out of order. A group whose result is not confirmed sends none of its later
     * results: they are reported undelivered, and their records come back in order.
     */
    void inGroupOrder(List<Integer> indexes) {
        Map<String, ArrayDeque<Integer>> groups = new LinkedHashMap<>();
        for (int index : indexes) {
            // a message without a group (not sent so by this project's processors) is a group of its own
            String group = messages.get(index).groupId().orElse("\u0000" + index);
            groups.computeIfAbsent(group, g -> new ArrayDeque<>()).add(index);
        }
        while (!groups.isEmpty()) {
            List<Integer> heads = new ArrayList<>(groups.size());
            groups.values().forEach(queue -> heads.add(queue.peek()));
            heads.sort(null);
            inParallel(pack(heads));
            for (var it = groups.values().iterator(); it.hasNext();) {
                var queue = it.next();
                int head = queue.poll();
                if (failures.get(head) != null) {
                    queue.forEach(later -> failures.set(later, "held back: an earlier result of its group was not confirmed"));
                    queue.clear();
                }
                if (queue.isEmpty()) {
                    it.remove();
                }
            }
        }
    }

    /** Up to sendConcurrency virtual threads take batches in turn; joined by the deadline. */
    void inParallel(List<List<Integer>> batches) {
        // what is unconfirmed at the deadline stays undelivered
        BatchWorkers.inParallel("fanout-send-", settings.sendConcurrency(), batches, deadline, this::sendWithRetries);
    }

    void sendWithRetries(List<Integer> batch) {
        sendWithRetries(batch, false);
    }

    /**
     * Sends {@code batch} until every entry is confirmed or given up on.
     *
     * @param resend whether the batch's entries were sent before (the halves of a request SQS refused whole): its
     *               first call is then a retry too
     */
    private void sendWithRetries(List<Integer> batch, boolean resend) {
        List<Integer> pending = batch;
        String reason = null;
        for (int attempt = 1; !pending.isEmpty(); attempt++) {
            if (unreachable != null) {
                fail(pending, unreachable);
                return;
            }
            Duration left = deadline.remaining();
            if (left.compareTo(settings.minCallTime()) < 0) {
                fail(pending, reason == null ? "no time left to send" : "no time left to retry: " + reason);
                return;
            }
            List<SendMessageBatchRequestEntry> entries = entries(pending);
            try {
                // counted where the call is made: a retry is a call that sends entries again, and a pause that ends
                // without one (interrupted, the deadline, the queue found unreachable meanwhile) is none
                requests.incrementAndGet();
                if (attempt > 1 || resend) {
                    retries.incrementAndGet();
                }
                SendMessageBatchResponse response = sqs.sendMessageBatch(r -> r.queueUrl(settings.queueUrl())
                        .entries(entries)
                        .overrideConfiguration(o -> o.apiCallTimeout(left)));
                connectFailuresInARow.set(0);
                for (SendMessageBatchResultEntry ok : response.successful()) {
                    messageIds.set(Integer.parseInt(ok.id()), ok.messageId());
                    failures.set(Integer.parseInt(ok.id()), null);
                }
                List<Integer> again = new ArrayList<>();
                List<Integer> replaced = new ArrayList<>();
                for (BatchResultErrorEntry failed : response.failed()) {
                    int index = Integer.parseInt(failed.id());
                    String why = "SQS refused the entry: " + failed.code() + " " + failed.message();
                    failures.set(index, why);
                    if (SqsErrors.isThrottle(failed.code())) {
                        throttled.incrementAndGet();
                    }
                    if (!Boolean.TRUE.equals(failed.senderFault())) {
                        again.add(index);
                        reason = why;
                    } else if (refuse(index, failed.code() + " " + failed.message())) {
                        replaced.add(index);
                    }
                }
                if (!replaced.isEmpty()) {
                    sendWithRetries(replaced); // attempts of their own: the replacement is a new message
                }
                pending = again;
            } catch (SdkException e) {
                reason = "SendMessageBatch failed: " + SqsErrors.describe(e);
                fail(pending, reason);
                if (SqsErrors.isSenderFault(e)) {
                    // the whole request refused (too long, invalid contents): one entry must not take the
                    // others with it, so halve until the refused one stands alone, then replace it
                    if (pending.size() > 1) {
                        int half = pending.size() / 2;
                        sendWithRetries(new ArrayList<>(pending.subList(0, half)), true);
                        sendWithRetries(new ArrayList<>(pending.subList(half, pending.size())), true);
                        return;
                    }
                    if (refuse(pending.getFirst(), SqsErrors.describe(e))) {
                        sendWithRetries(pending);
                    }
                    return;
                } else {
                    if (e instanceof AwsServiceException service && service.isThrottlingException()) {
                        throttled.incrementAndGet();
                    }
                    if (!SqsErrors.retryable(e)) {
                        return;
                    }
                    if (SqsErrors.isConnectFailure(e)) {
                        if (connectFailuresInARow.incrementAndGet() >= SqsResultsSink.MAX_CONNECT_FAILURES) {
                            unreachable = "the results queue is unreachable: " + SqsResultsSink.MAX_CONNECT_FAILURES
                                    + " connection failures in a row, the last " + SqsErrors.describe(e);
                            fail(pending, unreachable);
                            return;
                        }
                    } else {
                        connectFailuresInARow.set(0);
                    }
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
            try {
                Thread.sleep(Duration.ofNanos(pause));
            } catch (InterruptedException e) {
                fail(pending, "interrupted before retrying: " + reason);
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Replaces a result SQS refused as the sender's fault with its minimal error result, once. Only a
     * message whose substitution has one ({@link ResultMessage#substitution()}) is a record's result to replace.
     *
     * @return whether the replacement is to be sent; false if the refused one was the replacement already
     */
    private boolean refuse(int index, String why) {
        ResultMessage message = messages.get(index);
        if (message != original.get(index)) {
            failures.set(index, "SQS refused even the minimal error result: " + why);
            return false;
        }
        Optional<ResultMessage> minimal = message.refused(why);
        if (minimal.isEmpty()) {
            return false; // not a record's result (a queued work item, say): an error result has no place there
        }
        messages.set(index, minimal.get());
        refused.incrementAndGet();
        return true;
    }

    private List<SendMessageBatchRequestEntry> entries(List<Integer> indexes) {
        List<SendMessageBatchRequestEntry> entries = new ArrayList<>(indexes.size());
        for (int index : indexes) {
            ResultMessage message = messages.get(index);
            var entry = SendMessageBatchRequestEntry.builder()
                    .id(Integer.toString(index)) // unique within the request even when source ids repeat
                    .messageBody(message.body())
                    .messageAttributes(message.sqsAttributes());
            message.groupId().ifPresent(entry::messageGroupId);
            message.deduplicationId().ifPresent(entry::messageDeduplicationId);
            entries.add(entry.build());
        }
        return entries;
    }

    private void fail(List<Integer> indexes, String why) {
        for (int index : indexes) {
            failures.set(index, why);
        }
    }
}
