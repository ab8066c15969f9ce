package dev.fanout.function;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;

import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.inject.Named;

/**
 * The DynamoDB Streams entry point ({@code QUARKUS_LAMBDA_HANDLER=dynamodb}): turns the invocation's Context into a
 * deadline and hands the event to the {@link StreamBatchProcessor}. The event source mapping must report batch
 * item failures ({@code FunctionResponseTypes: [ReportBatchItemFailures]}): the response names the sequence
 * number to resume at.
 */
@Named("dynamodb")
public class DynamodbFunction implements RequestHandler<DynamodbEvent, StreamsEventResponse> {

    // looked up on first use: a deployment of another entry point never builds it
    @Inject
    Instance<StreamBatchProcessor> batches;

    @Inject
    FanoutConfig config;

    @Override
    public StreamsEventResponse handleRequest(DynamodbEvent event, Context context) {
        EventKind.requireRecordsOf(EventKind.DYNAMODB, event == null ? null : event.getRecords(),
                DynamodbEvent.DynamodbStreamRecord::getEventSource);
        try (InvocationLog log = InvocationLog.open(context)) {
            return batches.get().dynamodb(event, InvocationDeadline.of(context, config.fallbackTimeout()), log.traceId())
                    .response();
        }
    }
}
