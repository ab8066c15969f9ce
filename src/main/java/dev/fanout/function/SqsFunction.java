package dev.fanout.function;

import java.util.ArrayList;
import java.util.List;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.fasterxml.jackson.annotation.JsonAnySetter;

import io.quarkus.runtime.annotations.RegisterForReflection;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.inject.Named;

/**
 * The SQS-triggered entry point ({@code QUARKUS_LAMBDA_HANDLER=sqs}): turns the invocation's Context into
 * a deadline and hands the event to the {@link SqsBatchProcessor}. The event source mapping must report batch
 * item failures ({@code FunctionResponseTypes: [ReportBatchItemFailures]}). An event of another kind (an API
 * Gateway request, a stream's records) fails the invocation with a {@link WrongEventException}; an SQS event with
 * no records is a success.
 */
@Named("sqs")
public class SqsFunction implements RequestHandler<SqsFunction.Event, SQSBatchResponse> {

    /**
     * The SQS event, with the names of any other top-level fields: an event of another kind, which arrives with
     * no {@code Records}, says by them what it is.
     */
    @RegisterForReflection
    public static class Event extends SQSEvent {

        private final List<String> otherFields = new ArrayList<>();

        @JsonAnySetter
        void otherField(String name, Object value) {
            otherFields.add(name);
        }

        List<String> otherFields() {
            return otherFields;
        }
    }

    // looked up on first use: a deployment of the other entry point never builds it
    @Inject
    Instance<SqsBatchProcessor> batches;

    @Inject
    FanoutConfig config;

    @Override
    public SQSBatchResponse handleRequest(Event event, Context context) {
        try (InvocationLog log = InvocationLog.open(context)) {
            requireSqs(event);
            return batches.get().process(event, InvocationDeadline.of(context, config.fallbackTimeout()), log.traceId())
                    .response();
        }
    }

    /** An event without {@code Records}, or whose records come from another source, is not this entry point's. */
    static void requireSqs(Event event) {
        EventKind kind;
        if (event == null) {
            kind = new EventKind("no event at all (null)", null);
        } else if (event.getRecords() == null) {
            kind = EventKind.ofFields(event.otherFields());
        } else {
            kind = event.getRecords().stream().map(SQSEvent.SQSMessage::getEventSource)
                    .filter(source -> source != null && !source.equals("aws:sqs")).findFirst()
                    .map(EventKind::ofRecordSource).orElse(EventKind.SQS);
        }
        if (kind != EventKind.SQS) {
            throw kind.wrongFor("sqs", EventKind.SQS);
        }
    }
}
