package dev.fanout.work;

import java.lang.reflect.Method;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.work.limits.ServiceLimits;

import io.quarkus.arc.Arc;
import io.quarkus.arc.ArcContainer;
import io.quarkus.arc.InstanceHandle;
import io.quarkus.funqy.Funq;
import io.quarkus.funqy.runtime.FunctionInvoker;
import io.quarkus.funqy.runtime.FunctionRecorder;
import io.quarkus.funqy.runtime.FunctionRegistry;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.spi.Bean;

/**
 * The item types of this application, read from Funqy's function registry: what Funqy's build step found (every
 * {@code @Funq} method of the bean archive, its input and output types registered for reflection) and recorded.
 * Fanout uses Funqy's programming model and this registry, not its Lambda binding, which drops the invocation's
 * deadline and runs one call per record without a bound.
 * <p>
 * Funqy's registry keeps only the last of two functions that share a name (and logs a warning): the classes of
 * the application's beans are searched for {@code @Funq} methods the registry dropped, so that such a clash
 * fails the start instead of silently running one of the two.
 */
public final class FunqyRegistry {

    /** Packages of the frameworks' own beans, which declare no functions: not searched. */
    private static final List<String> FRAMEWORKS = List.of("io.quarkus.", "io.smallrye.", "org.jboss.", "io.vertx.",
            "jakarta.", "io.netty.", "com.fasterxml.", "software.amazon.", "com.amazonaws.");

    private FunqyRegistry() {
    }

    /**
     * Every {@code @Funq} function, each called on its CDI bean: one instance for a normal-scoped or singleton
     * bean, built when its first item comes; a new instance per item for a dependent bean (Funqy's default for a
     * class without a scope), destroyed when the item ends.
     *
     * @throws IllegalStateException naming the methods, when two functions share a name or a function cannot be an
     *                               item type
     */
    public static ItemFunctions functions(ObjectMapper mapper) {
        return functions(mapper, Idempotency.NONE);
    }

    /** As {@link #functions(ObjectMapper)}, with the idempotent functions' store and settings. */
    public static ItemFunctions functions(ObjectMapper mapper, Idempotency idempotency) {
        return functions(mapper, idempotency, ServiceLimits.DISABLED);
    }

    /** As {@link #functions(ObjectMapper, Idempotency)}, with the per-service limits of the items' permits. */
    public static ItemFunctions functions(ObjectMapper mapper, Idempotency idempotency, ServiceLimits limits) {
        ItemFunctions.Builder builder = ItemFunctions.builder(mapper).idempotency(idempotency).serviceLimits(limits);
        FunctionRegistry registry = FunctionRecorder.registry;
        if (registry == null) { // Funqy records no registry when the application has no function
            return builder.build();
        }
        ArcContainer container = Arc.container();
        Set<Method> registered = new HashSet<>();
        Set<String> names = new HashSet<>();
        for (FunctionInvoker invoker : registry.invokers()) {
            registered.add(invoker.getMethod());
            names.add(invoker.getName());
            builder.add(invoker.getName(), invoker.getMethod(), beanTarget(container, invoker.getTargetClass()));
        }
        for (Method dropped : droppedByRegistry(container, registered, names)) {
            builder.add(ItemFunctions.nameOf(dropped), dropped, FunctionTarget.none());
        }
        return builder.build();
    }

    /** The {@code @Funq} methods of the application's beans that share a name the registry kept for another. */
    private static Set<Method> droppedByRegistry(ArcContainer container, Set<Method> registered, Set<String> names) {
        Set<Method> dropped = new LinkedHashSet<>();
        Set<Class<?>> searched = new HashSet<>();
        for (Bean<?> bean : container.beanManager().getBeans(Object.class, Any.Literal.INSTANCE)) {
            Class<?> type = bean.getBeanClass();
            if (!searched.add(type) || framework(type.getName())) {
                continue;
            }
            Method[] methods;
            try {
                methods = type.getDeclaredMethods();
            } catch (LinkageError unresolvable) { // a bean whose methods name a class that is not there declares no function Funqy found
                continue;
            }
            for (Method method : methods) {
                if (method.isAnnotationPresent(Funq.class) && !registered.contains(method)
                        && names.contains(ItemFunctions.nameOf(method))) {
                    dropped.add(method);
                }
            }
        }
        return dropped;
    }

    private static boolean framework(String className) {
        for (String prefix : FRAMEWORKS) {
            if (className.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /** The function's bean, looked up when its first item comes: a function whose items never come is never built. */
    private static FunctionTarget beanTarget(ArcContainer container, Class<?> type) {
        return new FunctionTarget() {
            private volatile FunctionTarget resolved;

            @Override
            public Lease acquire() {
                FunctionTarget target = resolved;
                if (target == null) {
                    target = resolve();
                }
                return target.acquire();
            }

            private synchronized FunctionTarget resolve() {
                if (resolved == null) {
                    InstanceHandle<?> probe = container.instance(type);
                    if (!probe.isAvailable()) {
                        throw new IllegalStateException("function class " + type.getName() + " is not a bean");
                    }
                    if (probe.getBean().getScope() == Dependent.class) {
                        probe.close();
                        resolved = () -> new DependentLease(container.instance(type));
                    } else {
                        resolved = FunctionTarget.shared(probe.get());
                    }
                }
                return resolved;
            }
        };
    }

    /** A dependent bean's instance for one item, destroyed when the item ends (its {@code @PreDestroy} runs). */
    private record DependentLease(InstanceHandle<?> handle) implements FunctionTarget.Lease {
        @Override
        public Object instance() {
            return handle.get();
        }

        @Override
        public void close() {
            handle.close();
        }
    }
}
