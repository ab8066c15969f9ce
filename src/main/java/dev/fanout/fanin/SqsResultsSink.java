package dev.fanout.fanin;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import dev.fanout.engine.Backoff;
import dev.fanout.engine.Deadline;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.EmptyBatchRequestException;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResultEntry;

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
    /** The longest a stream's threads wait before they look at the deadline again. */
    private static final long MAX_WAIT_NANOS = Duration.ofMillis(100).toNanos();

    /**
     * @param queueUrl        the results queue; a URL ending in {@code .fifo} means a FIFO queue
     * @param maxMessageBytes largest message, at most 1 MiB
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

        public static Settings defaults(String queueUrl) {
            return new Settings(queueUrl, SQS_MAX_BYTES, SQS_MAX_BYTES, 32, 5, Duration.ofMillis(50),
                    Duration.ofSeconds(1), Duration.ofMillis(50));
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
            return "not reachable yet: " + describe(e);
        }
    }

    @Override
    public Delivery deliver(List<ResultMessage> messages, Deadline deadline) {
        var send = new Send(messages, deadline);
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
        return new Stream(new Send(capacity, deadline));
    }

    /**
     * A streaming send. One dispatcher thread packs offered results into requests (10 entries, the batch
     * byte limit), waiting up to {@link #LINGER} for a request to fill while results still come; up to
     * {@code sendConcurrency} requests are in flight at once, each on a virtual thread of its own, with the
     * same retries and rules as {@link #deliver}. A FIFO result waits for the previous result of its group:
     * so a request never holds two results of one group, and a group whose result is not confirmed sends
     * none of its later ones.
     */
    private final class Stream implements ResultStream {
        private final Send send;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();
        private final Thread dispatcher;
        // guarded by lock
        private final boolean[] offered;
        private final long[] offeredAt;
        private final long[] confirmedAt;
        private final ArrayDeque<Integer> ready = new ArrayDeque<>();
        private long readyBytes;
        private long oldestReadyAt;
        /** The result waiting for each unresolved one of its group: previous index to waiting index. */
        private final Map<Integer, Integer> waitingFor = new HashMap<>();
        private final boolean[] resolved;
        private final List<Thread> senders = new ArrayList<>();
        private int unresolved;
        private int inFlight;
        private boolean closed;

        Stream(Send send) {
            this.send = send;
            int n = send.messages.length();
            this.offered = new boolean[n];
            this.offeredAt = new long[n];
            this.confirmedAt = new long[n];
            this.resolved = new boolean[n];
            this.dispatcher = Thread.ofVirtual().name("fanout-send-dispatch").start(this::dispatch);
        }

        @Override
        public void offer(int index, ResultMessage message, int after) {
            Objects.requireNonNull(message, "message");
            lock.lock();
            try {
                if (closed || offered[index]) {
                    return;
                }
                offered[index] = true;
                offeredAt[index] = System.nanoTime();
                send.set(index, message);
                unresolved++;
                if (!send.withinSizeLimit(index)) {
                    resolveLocked(index);
                } else if (after >= 0 && !resolved[after]) {
                    waitingFor.put(after, index);
                } else if (after >= 0 && send.failures.get(after) != null) {
                    holdBackLocked(index);
                } else {
                    readyLocked(index);
                }
            } finally {
                lock.unlock();
            }
        }

        private void readyLocked(int index) {
            if (ready.isEmpty()) {
                oldestReadyAt = System.nanoTime();
            }
            ready.add(index);
            readyBytes += send.messages.get(index).sizeInBytes();
            changed.signalAll();
        }

        /** Index is confirmed or has failed for good: release or hold back the result waiting for it. */
        private void resolveLocked(int index) {
            resolved[index] = true;
            unresolved--;
            boolean confirmed = send.failures.get(index) == null;
            if (confirmed) {
                confirmedAt[index] = System.nanoTime();
            }
            Integer next = waitingFor.remove(index);
            if (next != null) {
                if (confirmed) {
                    readyLocked(next);
                } else {
                    holdBackLocked(next);
                }
            }
            changed.signalAll();
        }

        /**
         * No offer comes after close. A result still waiting for a predecessor that was never offered (its
         * record came back, so it has no result) can never be released: it is held back now, not left to
         * hold the invocation until the deadline.
         */
        private void holdBackOrphansLocked() {
            for (int predecessor : new ArrayList<>(waitingFor.keySet())) {
                if (!offered[predecessor]) {
                    holdBackLocked(waitingFor.remove(predecessor));
                }
            }
        }

        private void holdBackLocked(int index) {
            send.failures.set(index, "held back: an earlier result of its group was not confirmed");
            resolveLocked(index);
        }

        private void dispatch() {
            lock.lock();
            try {
                while (!(closed && unresolved == 0)) {
                    long left = send.deadline.remainingNanos();
                    if (left <= 0) {
                        return;
                    }
                    long wait = Math.min(left, MAX_WAIT_NANOS);
                    if (!ready.isEmpty() && inFlight < settings.sendConcurrency()) {
                        long lingered = System.nanoTime() - oldestReadyAt;
                        boolean full = ready.size() >= MAX_ENTRIES || readyBytes >= settings.maxBatchBytes();
                        if (full || closed || lingered >= LINGER.toNanos()) {
                            startRequestLocked();
                            continue;
                        }
                        wait = Math.min(wait, LINGER.toNanos() - lingered);
                    }
                    changed.awaitNanos(wait);
                }
            } catch (InterruptedException e) {
                // closed at the deadline: what is not sent stays undelivered
            } finally {
                lock.unlock();
            }
        }

        private void startRequestLocked() {
            List<Integer> batch = new ArrayList<>(MAX_ENTRIES);
            long bytes = 0;
            while (!ready.isEmpty() && batch.size() < MAX_ENTRIES) {
                int size = send.messages.get(ready.peek()).sizeInBytes();
                if (!batch.isEmpty() && bytes + size > settings.maxBatchBytes()) {
                    break;
                }
                batch.add(ready.poll());
                bytes += size;
            }
            readyBytes -= bytes;
            oldestReadyAt = System.nanoTime();
            inFlight++;
            senders.add(Thread.ofVirtual().name("fanout-send").start(() -> sendAndResolve(batch)));
        }

        private void sendAndResolve(List<Integer> batch) {
            try {
                send.sendWithRetries(batch);
            } finally {
                lock.lock();
                try {
                    inFlight--;
                    for (int index : batch) {
                        resolveLocked(index);
                    }
                } finally {
                    lock.unlock();
                }
            }
        }

        @Override
        public Delivery close() {
            List<Thread> running;
            lock.lock();
            try {
                closed = true;
                holdBackOrphansLocked();
                changed.signalAll();
                long left;
                while (unresolved > 0 && (left = send.deadline.remainingNanos()) > 0) {
                    changed.awaitNanos(Math.min(left, MAX_WAIT_NANOS));
                }
                running = unresolved > 0 ? new ArrayList<>(senders) : List.of();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = new ArrayList<>(senders);
            } finally {
                lock.unlock();
            }
            dispatcher.interrupt();
            running.forEach(Thread::interrupt); // past the deadline: stops sleepers between retries
            return send.delivery();
        }

        @Override
        public Duration confirmationLag(int percent) {
            lock.lock();
            try {
                long[] lags = new long[offered.length];
                int n = 0;
                for (int i = 0; i < offered.length; i++) {
                    if (offered[i] && confirmedAt[i] != 0) {
                        lags[n++] = confirmedAt[i] - offeredAt[i];
                    }
                }
                Arrays.sort(lags, 0, n);
                return n == 0 ? Duration.ZERO : Duration.ofNanos(lags[Math.max((int) Math.ceil(percent / 100.0 * n), 1) - 1]);
            } finally {
                lock.unlock();
            }
        }
    }

    /** One delivery: a message is undelivered until SQS confirms it. */
    private final class Send {
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
        final AtomicInteger connectFailuresInARow = new AtomicInteger();
        volatile String unreachable;

        Send(List<ResultMessage> messages, Deadline deadline) {
            this(messages.size(), deadline);
            for (int i = 0; i < messages.size(); i++) {
                set(i, messages.get(i));
            }
        }

        /** A send whose messages are {@link #set} as they come. */
        Send(int capacity, Deadline deadline) {
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

        /** Indexes in order; a result above the message limit is replaced by its minimal error result. */
        List<Integer> withinSizeLimit() {
            List<Integer> sendable = new ArrayList<>(messages.length());
            for (int i = 0; i < messages.length(); i++) {
                if (withinSizeLimit(i)) {
                    sendable.add(i);
                }
            }
            return sendable;
        }

        /** Whether message {@code i} may be sent; one above the message limit is replaced by its minimal error result. */
        boolean withinSizeLimit(int i) {
            int size = messages.get(i).sizeInBytes();
            if (size > settings.maxMessageBytes() && !refuse(i, "the result is " + size + " bytes, more than the "
                    + settings.maxMessageBytes() + "-byte message limit")) {
                failures.set(i, "message of " + size + " bytes exceeds the " + settings.maxMessageBytes() + "-byte limit");
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
                    unreachable != null);
        }

        /** Groups message indexes in order into batches within the entry and byte limits. */
        List<List<Integer>> pack(List<Integer> indexes) {
            List<List<Integer>> batches = new ArrayList<>();
            List<Integer> current = new ArrayList<>();
            int bytes = 0;
            for (int i : indexes) {
                int size = messages.get(i).sizeInBytes();
                if (current.size() == MAX_ENTRIES || bytes + size > settings.maxBatchBytes()) {
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
            if (batches.size() == 1) {
                sendWithRetries(batches.getFirst());
                return;
            }
            var next = new AtomicInteger();
            int workers = Math.min(settings.sendConcurrency(), batches.size());
            List<Thread> threads = new ArrayList<>(workers);
            for (int w = 0; w < workers; w++) {
                threads.add(Thread.ofVirtual().name("fanout-send-" + w).start(() -> {
                    int b;
                    while ((b = next.getAndIncrement()) < batches.size()) {
                        sendWithRetries(batches.get(b));
                    }
                }));
            }
            try {
                for (Thread thread : threads) {
                    long left = deadline.remainingNanos();
                    if (left <= 0 || !thread.join(Duration.ofNanos(left))) {
                        break; // what is unconfirmed at the deadline stays undelivered
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                threads.forEach(Thread::interrupt); // no-op for finished ones; stops sleepers past the deadline
            }
        }

        void sendWithRetries(List<Integer> batch) {
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
                    requests.incrementAndGet();
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
                        if (isThrottle(failed.code())) {
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
                    reason = "SendMessageBatch failed: " + describe(e);
                    fail(pending, reason);
                    if (isSenderFault(e)) {
                        // the whole request refused (too long, invalid contents): one entry must not take the
                        // others with it, so halve until the refused one stands alone, then replace it
                        if (pending.size() > 1) {
                            int half = pending.size() / 2;
                            sendWithRetries(new ArrayList<>(pending.subList(0, half)));
                            sendWithRetries(new ArrayList<>(pending.subList(half, pending.size())));
                            return;
                        }
                        if (refuse(pending.getFirst(), describe(e))) {
                            sendWithRetries(pending);
                        }
                        return;
                    } else {
                        if (e instanceof AwsServiceException service && service.isThrottlingException()) {
                            throttled.incrementAndGet();
                        }
                        if (!retryable(e)) {
                            return;
                        }
                        if (isConnectFailure(e)) {
                            if (connectFailuresInARow.incrementAndGet() >= MAX_CONNECT_FAILURES) {
                                unreachable = "the results queue is unreachable: " + MAX_CONNECT_FAILURES
                                        + " connection failures in a row, the last " + describe(e);
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

        /**
         * Replaces a result SQS refused as the sender's fault with its minimal error result, once. Only a
         * message that names its record ({@link ResultMessage#recordId()}) is a result to replace.
         *
         * @return whether the replacement is to be sent; false if the refused one was the replacement already
         */
        private boolean refuse(int index, String why) {
            ResultMessage message = messages.get(index);
            if (message.recordId().isEmpty()) {
                return false; // not a record's result (a queued work item, say): an error result has no place there
            }
            if (message != original.get(index)) {
                failures.set(index, "SQS refused even the minimal error result: " + why);
                return false;
            }
            messages.set(index, message.refused(why));
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
                        .messageAttributes(attributes(message.attributes()));
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

    private static Map<String, MessageAttributeValue> attributes(Map<String, String> attributes) {
        var values = new HashMap<String, MessageAttributeValue>();
        attributes.forEach((name, value) -> values.put(name,
                MessageAttributeValue.builder().dataType("String").stringValue(value).build()));
        return values;
    }

    static boolean retryable(SdkException e) {
        if (e instanceof AwsServiceException service) {
            int status = service.statusCode();
            return service.isThrottlingException() || status == 429 || status >= 500;
        }
        return e instanceof SdkClientException; // network errors and call timeouts
    }

    /**
     * The whole request refused for what it holds (too long, invalid contents, a bad parameter): sending
     * it again unchanged cannot help. A 4xx that is not a throttle, or any error SQS marks as the sender's.
     */
    static boolean isSenderFault(SdkException e) {
        if (!(e instanceof AwsServiceException service) || service.isThrottlingException()) {
            return false;
        }
        int status = service.statusCode();
        String code = service.awsErrorDetails() == null ? "" : String.valueOf(service.awsErrorDetails().errorCode());
        if (isThrottle(code) || status == 429 || status == 403 || code.contains("AccessDenied")
                || code.contains("NonExistentQueue") || code.contains("QueueDoesNotExist") || code.contains("Signature")
                || code.contains("Token") || code.contains("Credential")) {
            return false; // about the caller or the queue, not the entries: halving would only multiply requests
        }
        return status >= 400 && status < 500;
    }

    /** The connection could not be opened: nothing reached the queue. */
    static boolean isConnectFailure(SdkException e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof ConnectException || cause instanceof UnknownHostException
                    || cause instanceof NoRouteToHostException) {
                return true;
            }
            if (cause.getCause() == cause) {
                break;
            }
        }
        return false;
    }

    private static boolean isThrottle(String code) {
        return code != null && (code.contains("Throttl") || code.equals("RequestThrottled")
                || code.equals("KmsThrottled") || code.equals("TooManyRequests"));
    }

    private static String describe(SdkException e) {
        if (e instanceof AwsServiceException service && service.awsErrorDetails() != null) {
            return "HTTP " + service.statusCode() + " " + service.awsErrorDetails().errorCode() + ": "
                    + service.awsErrorDetails().errorMessage();
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
