package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.jboss.logging.MDC;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;

import dev.fanout.engine.Batch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.WorkerPool;

class InvocationLogTest {

    // Quarkus's own poll loop (the mock event server of other tests in this JVM) sets the property too
    @BeforeEach
    @AfterEach
    void clear() {
        System.clearProperty(InvocationLog.TRACE_HEADER_PROPERTY);
        MDC.clear();
    }

    @Test
    void theTraceIdIsTheRootOfTheTraceHeader() {
        assertThat(InvocationLog.root("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"))
                .contains("1-5759e988-bd862e3fe1be46a994272793");
        assertThat(InvocationLog.root("Parent=53995c3f42cd8ad8;Root=1-a-b")).contains("1-a-b");
        assertThat(InvocationLog.root("1-5759e988-bd862e3fe1be46a994272793")).contains("1-5759e988-bd862e3fe1be46a994272793");
        assertThat(InvocationLog.root("Parent=53995c3f42cd8ad8;Sampled=0")).isEmpty();
        assertThat(InvocationLog.root("Root=;Sampled=1")).isEmpty();
        assertThat(InvocationLog.root(" ")).isEmpty();
        assertThat(InvocationLog.root(null)).isEmpty();
    }

    @Test
    void theContextsTraceIdComesFirstThenTheRuntimesSystemProperty() {
        System.setProperty(InvocationLog.TRACE_HEADER_PROPERTY, "Root=1-from-property;Sampled=1");

        assertThat(InvocationLog.traceId(new FakeContext("r", "Root=1-from-context;Sampled=1"))).contains("1-from-context");
        assertThat(InvocationLog.traceId(new FakeContext("r", null))).contains("1-from-property");
        assertThat(InvocationLog.traceId(null)).contains("1-from-property");
    }

    @Test
    void theIdsAreInTheMdcUntilClosedAndOnTheEnginesItemThreads() {
        List<String> items = List.of("a", "b", "c", "d");
        try (InvocationLog log = InvocationLog.open(new FakeContext("req-1", "Root=1-abc-def;Sampled=1"))) {
            assertThat(log.traceId()).contains("1-abc-def");
            // items run on virtual threads the engine starts: each sees the invocation's ids
            var run = new WorkerPool(Limits.of(2)).run(Batch.of(items),
                    item -> Thread.currentThread().isVirtual() + " "
                            + MDC.get(InvocationLog.REQUEST_ID) + " " + MDC.get(InvocationLog.TRACE_ID),
                    Deadline.after(Duration.ofSeconds(30)));
            assertThat(run.outcomes()).extracting(o -> ((Outcome.Succeeded<String>) o).value())
                    .containsOnly("true req-1 1-abc-def").hasSize(4);
        }
        assertThat(MDC.get(InvocationLog.REQUEST_ID)).isNull();
        assertThat(MDC.get(InvocationLog.TRACE_ID)).isNull();
    }

    @Test
    void anUntracedInvocationHasNoTraceIdInTheMdc() {
        MDC.put(InvocationLog.TRACE_ID, "left over");
        try (InvocationLog log = InvocationLog.open(new FakeContext("req-2", null))) {
            assertThat(log.traceId()).isEqualTo(Optional.empty());
            assertThat(MDC.get(InvocationLog.TRACE_ID)).isNull();
            assertThat(MDC.get(InvocationLog.REQUEST_ID)).isEqualTo("req-2");
        }
    }

    record FakeContext(String requestId, String traceHeader) implements Context {
        @Override
        public String getAwsRequestId() {
            return requestId;
        }

        @Override
        public String getXrayTraceId() {
            return traceHeader;
        }

        @Override
        public String getLogGroupName() {
            return "/aws/lambda/fanout";
        }

        @Override
        public String getLogStreamName() {
            return "local";
        }

        @Override
        public String getFunctionName() {
            return "fanout";
        }

        @Override
        public String getFunctionVersion() {
            return "$LATEST";
        }

        @Override
        public String getInvokedFunctionArn() {
            return "arn:aws:lambda:us-east-1:123456789012:function:fanout";
        }

        @Override
        public CognitoIdentity getIdentity() {
            return null;
        }

        @Override
        public ClientContext getClientContext() {
            return null;
        }

        @Override
        public int getRemainingTimeInMillis() {
            return 10_000;
        }

        @Override
        public int getMemoryLimitInMB() {
            return 1024;
        }

        @Override
        public LambdaLogger getLogger() {
            return null;
        }
    }
}
