package dev.fanout.function;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;

import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.inject.Named;

/**
 * The Kinesis Data Streams entry point ({@code QUARKUS_LAMBDA_HANDLER=kinesis}): turns the invocation's Context into a
 * deadline and hands the event to the {@link StreamBatchProcessor}. The event source mapping must report batch
 * item failures ({@code FunctionResponseTypes: [ReportBatchItemFailures]}): the response names the sequence
 * number to resume at.
 */
@Named("kinesis")
public class KinesisFunction implements RequestHandler<KinesisEvent, StreamsEventResponse> {

    // looked up on first use: a deployment of another entry point never builds it
    @Inject
    Instance<StreamBatchProcessor> batches;

    @Inject
    FanoutConfig config;

    @Override
    public StreamsEventResponse handleRequest(KinesisEvent event, Context context) {
        EventKind.requireRecordsOf(EventKind.KINESIS, event == null ? null : event.getRecords(),
                KinesisEvent.KinesisEventRecord::getEventSource);
        try (InvocationLog log = InvocationLog.open(context)) {
            return batches.get().kinesis(event, InvocationDeadline.of(context, config.fallbackTimeout()), log.traceId())
                    .response();
        }
    }
}
