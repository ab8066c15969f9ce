package dev.fanout.testing;

import java.lang.reflect.Method;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.work.FunctionTarget;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.WorkContext;
import dev.fanout.work.limits.ServiceLimits;
import io.quarkus.funqy.Context;
import io.smallrye.mutiny.Uni;

/**
 * Item types for tests that need many small functions with latches and counters: a function written as a lambda
 * gets the raw payload and the item's context, and is added under a name of the test's choosing through the same
 * {@link ItemFunctions.Builder#add(String, Method, FunctionTarget)} that the Funqy registry feeds in production.
 */
public final class TestFunctions {

    /** A lambda function's body. */
    @FunctionalInterface
    public interface Body {
        Object apply(JsonNode payload, WorkContext item) throws Exception;
    }

    /** An asynchronous lambda function's body. */
    @FunctionalInterface
    public interface AsyncBody {
        Uni<Object> apply(JsonNode payload, WorkContext item) throws Exception;
    }

    private static final Method CALL;
    private static final Method CALL_ASYNC;

    static {
        try {
            CALL = Lambda.class.getMethod("call", JsonNode.class, WorkContext.class);
            CALL_ASYNC = AsyncLambda.class.getMethod("call", JsonNode.class, WorkContext.class);
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final ItemFunctions.Builder functions;

    private TestFunctions(ObjectMapper mapper) {
        this.functions = ItemFunctions.builder(mapper);
    }

    public static TestFunctions builder(ObjectMapper mapper) {
        return new TestFunctions(mapper);
    }

    /** The function {@code name}, running {@code body}. */
    public TestFunctions register(String name, Body body) {
        functions.add(name, CALL, FunctionTarget.shared(new Lambda(body)));
        return this;
    }

    /** The function {@code name}, returning the {@code Uni} of {@code body}. */
    public TestFunctions registerAsync(String name, AsyncBody body) {
        functions.add(name, CALL_ASYNC, FunctionTarget.shared(new AsyncLambda(body)));
        return this;
    }

    /** Every {@code @Funq} method of {@code instance}, under its Funqy name. */
    public TestFunctions add(Object instance) {
        functions.add(instance);
        return this;
    }

    /** The per-service limits the functions' items take permits of (off unless set). */
    public TestFunctions serviceLimits(ServiceLimits limits) {
        functions.serviceLimits(limits);
        return this;
    }

    public ItemFunctions build() {
        return functions.build();
    }

    /**
     * The lambda's holder. Its method is not annotated {@code @Funq}: Funqy's scanner would give every test
     * application a function "call". A {@code JsonNode} input takes any payload, an absent one as JSON null.
     */
    public static final class Lambda {
        private final Body body;

        Lambda(Body body) {
            this.body = body;
        }

        public Object call(JsonNode payload, @Context WorkContext item) throws Exception {
            return body.apply(payload, item);
        }
    }

    /** The asynchronous lambda's holder. */
    public static final class AsyncLambda {
        private final AsyncBody body;

        AsyncLambda(AsyncBody body) {
            this.body = body;
        }

        public Uni<Object> call(JsonNode payload, @Context WorkContext item) throws Exception {
            return body.apply(payload, item);
        }
    }
}
