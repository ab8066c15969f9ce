package dev.fanout.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SqsException;

/**
 * A real SQS client with faults injected in front of it: whole calls throttled or failing with 5xx
 * before they reach the server, some entries answered as Failed (server or sender fault) in an HTTP 200,
 * slow calls, and lost answers (the server stored the entries, the caller sees an error).
 */
public final class FaultySqsClient implements SqsClient {

    /**
     * Chances in percent of each fault per call (whole-call faults) or per entry (entry faults).
     * {@code requestRefusedPercent}: the whole request refused as the sender's fault
     * ({@code InvalidMessageContents}, HTTP 400), as SQS may answer for one bad entry.
     */
    public record Faults(int throttlePercent, int serverErrorPercent, int entryFailurePercent,
            int senderFaultPercent, int lostAnswerPercent, int maxDelayMicros, int requestRefusedPercent) {

        public Faults(int throttlePercent, int serverErrorPercent, int entryFailurePercent, int senderFaultPercent,
                int lostAnswerPercent, int maxDelayMicros) {
            this(throttlePercent, serverErrorPercent, entryFailurePercent, senderFaultPercent, lostAnswerPercent,
                    maxDelayMicros, 0);
        }

        public static Faults none() {
            return new Faults(0, 0, 0, 0, 0, 0);
        }
    }

    private final SqsClient delegate;
    private final Faults faults;
    private final Random random;
    public final AtomicInteger calls = new AtomicInteger();

    public FaultySqsClient(SqsClient delegate, Faults faults, long seed) {
        this.delegate = delegate;
        this.faults = faults;
        this.random = new Random(seed);
    }

    private synchronized int roll() {
        return random.nextInt(100);
    }

    private synchronized int delayMicros() {
        return faults.maxDelayMicros() == 0 ? 0 : random.nextInt(faults.maxDelayMicros());
    }

    @Override
    public SendMessageBatchResponse sendMessageBatch(SendMessageBatchRequest request) {
        calls.incrementAndGet();
        LockSupport.parkNanos(delayMicros() * 1000L);
        if (roll() < faults.throttlePercent()) {
            throw (SqsException) SqsException.builder().statusCode(400).message("Rate exceeded")
                    .awsErrorDetails(AwsErrorDetails.builder().errorCode("ThrottlingException")
                            .errorMessage("Rate exceeded").build())
                    .build();
        }
        if (roll() < faults.serverErrorPercent()) {
            throw (SqsException) SqsException.builder().statusCode(500).message("Internal error")
                    .awsErrorDetails(AwsErrorDetails.builder().errorCode("InternalError")
                            .errorMessage("We encountered an internal error").build())
                    .build();
        }
        if (roll() < faults.requestRefusedPercent()) {
            throw (SqsException) SqsException.builder().statusCode(400).message("Invalid characters found")
                    .awsErrorDetails(AwsErrorDetails.builder().errorCode("InvalidMessageContents")
                            .errorMessage("Invalid characters found").build())
                    .build();
        }
        List<SendMessageBatchRequestEntry> forwarded = new ArrayList<>();
        List<BatchResultErrorEntry> failed = new ArrayList<>();
        for (SendMessageBatchRequestEntry entry : request.entries()) {
            if (roll() < faults.entryFailurePercent()) {
                boolean senderFault = roll() < faults.senderFaultPercent();
                failed.add(BatchResultErrorEntry.builder().id(entry.id()).senderFault(senderFault)
                        .code(senderFault ? "InvalidParameterValue" : "InternalError")
                        .message(senderFault ? "injected sender fault" : "injected server fault").build());
            } else {
                forwarded.add(entry);
            }
        }
        SendMessageBatchResponse stored = forwarded.isEmpty()
                ? SendMessageBatchResponse.builder().successful(List.of()).failed(List.of()).build()
                : delegate.sendMessageBatch(request.toBuilder().entries(forwarded).build());
        if (roll() < faults.lostAnswerPercent()) {
            throw SdkClientException.create("injected: connection reset after the request was sent");
        }
        List<BatchResultErrorEntry> allFailed = new ArrayList<>(stored.failed());
        allFailed.addAll(failed);
        return stored.toBuilder().failed(allFailed).build();
    }

    @Override
    public String serviceName() {
        return delegate.serviceName();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
