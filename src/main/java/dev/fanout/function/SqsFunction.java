package dev.fanout.function;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;

import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.inject.Named;

/**
 * The SQS-triggered entry point ({@code QUARKUS_LAMBDA_HANDLER=sqs}): turns the invocation's Context into
 * a deadline and hands the event to the {@link SqsBatchProcessor}. The event source mapping must report batch
 * item failures ({@code FunctionResponseTypes: [ReportBatchItemFailures]}).
 */
@Named("sqs")
public class SqsFunction implements RequestHandler<SQSEvent, SQSBatchResponse> {

    // looked up on first use: a deployment of the other entry point never builds it
    @Inject
    Instance<SqsBatchProcessor> batches;

    @Inject
    FanoutConfig config;

    @Override
    public SQSBatchResponse handleRequest(SQSEvent event, Context context) {
        try (InvocationLog log = InvocationLog.open(context)) {
            return batches.get().process(event, InvocationDeadline.of(context, config.fallbackTimeout()), log.traceId())
                    .response();
        }
    }
}
