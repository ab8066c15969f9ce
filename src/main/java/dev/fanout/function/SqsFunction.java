package dev.fanout.function;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;

import jakarta.inject.Inject;
import jakarta.inject.Named;

/**
 * The SQS-triggered entry point ({@code QUARKUS_LAMBDA_HANDLER=sqs}): turns the invocation's Context into
 * a deadline and calls the {@code sqs} function. The event source mapping must report batch item
 * failures ({@code FunctionResponseTypes: [ReportBatchItemFailures]}).
 */
@Named("sqs")
public class SqsFunction implements RequestHandler<SQSEvent, SQSBatchResponse> {

    @Inject
    FanoutFunctions functions;

    @Inject
    FanoutConfig config;

    @Override
    public SQSBatchResponse handleRequest(SQSEvent event, Context context) {
        try (InvocationLog log = InvocationLog.open(context)) {
            return functions.sqs(event, InvocationDeadline.of(context, config.fallbackTimeout()), log.traceId());
        }
    }
}
