package dev.fanout.startup;

import java.util.concurrent.atomic.AtomicInteger;

import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResultEntry;

/**
 * The results queue of a priming run: accepts every SendMessageBatch entry in process and counts them, so that
 * a priming run takes the fan-in's own path (streaming, batching, the results' attributes) before any
 * invocation, without a call to AWS. Only the call the fan-in makes is implemented; the others are
 * {@link SqsClient}'s defaults (unsupported).
 */
public final class InProcessQueue implements SqsClient {

    /** A URL of SQS's form, for the sink's settings; nothing is sent to it. */
    public static final String QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/000000000000/fanout-priming";

    private final AtomicInteger accepted = new AtomicInteger();

    @Override
    public SendMessageBatchResponse sendMessageBatch(SendMessageBatchRequest request) {
        accepted.addAndGet(request.entries().size());
        return SendMessageBatchResponse.builder().successful(request.entries().stream()
                .map(entry -> SendMessageBatchResultEntry.builder().id(entry.id()).messageId("prime-" + entry.id())
                        .build())
                .toList()).build();
    }

    /** The entries accepted so far. */
    public int accepted() {
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
