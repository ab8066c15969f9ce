package dev.fanout.work;

import java.lang.annotation.Annotation;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.Arrays;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;

import dev.fanout.engine.Cancellation;
import dev.fanout.engine.ItemContext;
import dev.fanout.engine.RejectedItemException;
import dev.fanout.work.limits.ServiceLimits;
import io.quarkus.funqy.Context;
import io.quarkus.funqy.runtime.ApplicationException;
import io.smallrye.mutiny.Uni;

/**
 * One item type: a {@code @Funq} method, checked once when it is registered and then called for each item of
 * its type. Its one input parameter (if any) receives the item's payload bound to the parameter's generic type
 * (a {@code JsonNode} parameter: the payload as it is, JSON null when the item has none);
 * an {@code @Context WorkContext} parameter receives the item's context; its return value (or the item of the
 * {@code Uni} it returns, awaited on the item's thread) is the output. The method is called through a method
 * handle made once, not through Funqy's {@code FunctionInvoker.invoke}, which wraps every call's result in a
 * {@code Uni} and its failures in Funqy's own exceptions.
 */
final class ItemFunction {

    private static final Object[] NO_ARGUMENTS = {};

    private final String name;
    private final String signature;
    private final FunctionTarget target;
    private final Method method;
    private final boolean isStatic;
    // (Object target, Object[] arguments) -> Object, made at the first call: spinning a method handle's forms
    // costs the start milliseconds for every function, and most deployments run one or two types
    private volatile MethodHandle call;
    private final int arity;
    private final int inputPosition; // -1: no input
    private final int[] contextPositions;
    private final ObjectReader input; // null: no input, or raw JSON
    private final boolean rawInput; // a JsonNode input: the payload as it is, JSON null when absent
    private final boolean async;
    private final boolean returnsNothing;
    private final IdempotencyKeys idempotency; // null: not marked @Idempotent

    private ItemFunction(String name, Method method, FunctionTarget target, ObjectMapper mapper) {
        this.name = name;
        this.signature = signature(method);
        this.target = target;
        this.method = method;
        this.isStatic = Modifier.isStatic(method.getModifiers());
        Class<?>[] types = method.getParameterTypes();
        Annotation[][] annotations = method.getParameterAnnotations();
        int inputAt = -1;
        int[] contexts = new int[types.length];
        int contextCount = 0;
        for (int i = 0; i < types.length; i++) {
            if (annotated(annotations[i])) {
                if (types[i] != WorkContext.class) {
                    throw new IllegalStateException("function '" + name + "' (" + signature + "): its @Context parameter "
                            + (i + 1) + " is a " + types[i].getName() + ", but Fanout provides "
                            + WorkContext.class.getName() + " only");
                }
                contexts[contextCount++] = i;
            } else if (inputAt >= 0) {
                throw new IllegalStateException("function '" + name + "' (" + signature + ") has more than one input"
                        + " parameter: an item has one payload; mark the others @Context, or take one record");
            } else {
                inputAt = i;
            }
        }
        this.arity = types.length;
        this.inputPosition = inputAt;
        this.contextPositions = Arrays.copyOf(contexts, contextCount);
        this.rawInput = inputAt >= 0 && types[inputAt] == JsonNode.class;
        this.input = inputAt < 0 || rawInput ? null : mapper.readerFor(mapper.getTypeFactory()
                .constructType(method.getGenericParameterTypes()[inputAt]))
                .with(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .with(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        Class<?> returned = method.getReturnType();
        this.async = Uni.class.isAssignableFrom(returned);
        if (async && !(method.getGenericReturnType() instanceof ParameterizedType)) {
            throw new IllegalStateException("function '" + name + "' (" + signature + ") returns a raw Uni: give it"
                    + " its item type, Uni<Output>");
        }
        if (async) {
            UniAwait.prepare();
        }
        this.returnsNothing = returned == void.class || async && isVoid(method.getGenericReturnType());
        try {
            method.setAccessible(true); // a public method of a class that may not be public, as a user's may be
        } catch (RuntimeException e) {
            throw new IllegalStateException("function '" + name + "' (" + signature + ") cannot be called: "
                    + e.getMessage(), e);
        }
        Idempotent idempotent = method.getAnnotation(Idempotent.class);
        this.idempotency = idempotent == null ? null : IdempotencyKeys.of(idempotent, name, signature, inputAt >= 0);
    }

    /**
     * @throws IllegalStateException naming the method, if it cannot be an item type: more than one input, an
     *                               {@code @Context} parameter of a type Fanout does not provide, a raw {@code Uni},
     *                               a name no item can reach
     */
    static ItemFunction of(String name, Method method, FunctionTarget target, ObjectMapper mapper) {
        if (name == null || name.isBlank() || !name.strip().equals(name) || name.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalStateException("function " + signature(method) + " is named '" + name + "', which no item"
                    + " can name as its type: give @Funq a name without blanks at its ends or control characters");
        }
        return new ItemFunction(name, method, target, mapper);
    }

    String signature() {
        return signature;
    }

    /**
     * Runs the function for one item on the calling (the item's) thread.
     *
     * @return the output: {@code null} when the function returns nothing ({@code void}, {@code Uni<Void>})
     */
    Object call(WorkItem item, ItemContext<?> engineContext, ServiceLimits limits) throws Exception {
        Object[] arguments = arity == 0 ? NO_ARGUMENTS : new Object[arity];
        if (rawInput) {
            arguments[inputPosition] = item.payload();
        } else if (inputPosition >= 0) {
            arguments[inputPosition] = Payloads.bind(item, input);
        } else if (!item.payload().isNull()) {
            throw new RejectedItemException("'" + name + "' takes no payload, but the item has one");
        }
        if (contextPositions.length > 0) {
            WorkContext context = new WorkContext(item, engineContext, limits);
            for (int position : contextPositions) {
                arguments[position] = context;
            }
        }
        Object output;
        try (FunctionTarget.Lease lease = target.acquire()) {
            Object result = invoke(lease.instance(), arguments);
            if (async) {
                if (result == null) {
                    throw new IllegalStateException("function '" + name + "' returned null instead of a Uni");
                }
                output = await((Uni<?>) result, engineContext.cancellation());
            } else {
                output = result;
            }
        }
        return output;
    }

    boolean returnsNothing() {
        return returnsNothing;
    }

    /** How an {@code @Idempotent} function keys its items; empty when it is not marked. */
    java.util.Optional<IdempotencyKeys> idempotency() {
        return java.util.Optional.ofNullable(idempotency);
    }

    boolean takesPayload() {
        return inputPosition >= 0;
    }

    private Object invoke(Object instance, Object[] arguments) throws Exception {
        try {
            MethodHandle handle = call;
            if (handle == null) {
                call = handle = handle(method, isStatic); // a race makes two equal handles: harmless
            }
            return (Object) handle.invokeExact(instance, arguments);
        } catch (Throwable t) {
            throw rethrown(t);
        }
    }

    private static Object await(Uni<?> uni, Cancellation cancellation) throws Exception {
        try {
            return UniAwait.await(uni, cancellation);
        } catch (Throwable t) {
            throw rethrown(t);
        }
    }

    /**
     * The function's own failure, with Funqy's wrappers ({@code ApplicationException}, {@code InternalError})
     * taken off, so the outcome follows the function's exception. An {@link Error} is thrown as it is.
     */
    static Exception rethrown(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof ApplicationException || cause instanceof io.quarkus.funqy.runtime.InternalError)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof Error error) {
            throw error;
        }
        return cause instanceof Exception exception ? exception : new IllegalStateException(cause);
    }

    private static MethodHandle handle(Method method, boolean isStatic) {
        try {
            MethodHandle direct = MethodHandles.lookup().unreflect(method);
            if (isStatic) {
                direct = MethodHandles.dropArguments(direct, 0, Object.class);
            }
            int parameters = method.getParameterCount();
            return direct.asType(MethodType.genericMethodType(parameters + 1))
                    .asSpreader(Object[].class, parameters)
                    .asType(MethodType.methodType(Object.class, Object.class, Object[].class));
        } catch (IllegalAccessException | RuntimeException e) {
            throw new IllegalStateException("function " + signature(method) + " cannot be called: " + e.getMessage(), e);
        }
    }

    private static boolean annotated(Annotation[] annotations) {
        for (Annotation annotation : annotations) {
            if (annotation.annotationType() == Context.class) {
                return true;
            }
        }
        return false;
    }

    private static boolean isVoid(Type type) {
        Type item = ((ParameterizedType) type).getActualTypeArguments()[0];
        return item == Void.class;
    }

    static String signature(Method method) {
        return method.getDeclaringClass().getName() + "." + method.getName() + "("
                + Arrays.stream(method.getParameterTypes()).map(Class::getSimpleName).collect(Collectors.joining(", "))
                + ")";
    }
}
