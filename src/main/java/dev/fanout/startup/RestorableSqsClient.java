package dev.fanout.startup;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.SqsServiceClientConfiguration;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequest;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

/**
 * The SQS client the results sink sends through, rebuilt after a SnapStart restore. A snapshot freezes a
 * client's open connections (dead after restore), its cached credentials and its clock-skew correction;
 * {@link #renew()} swaps in a client built afresh and closes the old one. Only the calls Fanout makes are
 * delegated; the others are {@link SqsClient}'s defaults (unsupported).
 */
public final class RestorableSqsClient implements SqsClient {

    private final Supplier<SqsClient> factory;
    private final AtomicReference<SqsClient> current;

    public RestorableSqsClient(Supplier<SqsClient> factory) {
        this.factory = Objects.requireNonNull(factory, "factory");
        this.current = new AtomicReference<>(Objects.requireNonNull(factory.get(), "the factory's client"));
    }

    /** The client in use now. */
    public SqsClient current() {
        return current.get();
    }

    /** Builds a new client and closes the one it replaces (its connections with it). */
    public void renew() {
        SqsClient old = current.getAndSet(factory.get());
        old.close();
    }

    @Override
    public SendMessageBatchResponse sendMessageBatch(SendMessageBatchRequest request) {
        return current.get().sendMessageBatch(request);
    }

    /** The redelivery's visibility changes ({@code SqsVisibility}). */
    @Override
    public ChangeMessageVisibilityBatchResponse changeMessageVisibilityBatch(ChangeMessageVisibilityBatchRequest request) {
        return current.get().changeMessageVisibilityBatch(request);
    }

    @Override
    public SqsServiceClientConfiguration serviceClientConfiguration() {
        return current.get().serviceClientConfiguration();
    }

    @Override
    public String serviceName() {
        return SERVICE_NAME;
    }

    @Override
    public void close() {
        current.get().close();
    }
}
