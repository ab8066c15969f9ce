package dev.fanout.testing;

import java.lang.reflect.Method;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.extension.DynamicTestInvocationContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;

/**
 * In PIT's mutation minions only, lets a test class be discovered without being run.
 * <p>
 * {@code pitest-junit5-plugin} finds a minion's tests by running its test classes whole (JUnit 5 knows a
 * parameterised test's invocations only by running it), once at every minion start, and PIT starts a
 * minion for every unit of mutants and again after every mutant that timed out. With the engine's tests
 * that is about 25 s of randomised runs before the first mutant, dozens of times per execution. While
 * that finder is on the stack of a mutation minion, this skips each test body and lifecycle method: the
 * test is still reported as started, which is all the finder records, and its unique id is the one PIT
 * then runs against each mutant, with nothing skipped.
 * <p>
 * The coverage minion is left alone: its discovery run is the coverage measurement. Outside PIT, and
 * unless {@code -Dfanout.pit.discovery-without-running=true} is set (the {@code mutation} profile sets it
 * for the minions), this does nothing.
 */
public final class PitDiscoveryWithoutRunning implements InvocationInterceptor {

    static final String PROPERTY = "fanout.pit.discovery-without-running";
    static final String FINDER = "org.pitest.junit5.JUnit5TestUnitFinder";
    static final String MUTATION_MINION = "org.pitest.mutationtest.execute.MutationTestMinion";

    private static final boolean ENABLED = Boolean.getBoolean(PROPERTY);

    @Override
    public void interceptTestMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> context,
            ExtensionContext extensionContext) throws Throwable {
        proceedUnlessDiscovering(invocation);
    }

    @Override
    public void interceptTestTemplateMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> context,
            ExtensionContext extensionContext) throws Throwable {
        proceedUnlessDiscovering(invocation);
    }

    @Override
    public void interceptDynamicTest(Invocation<Void> invocation, DynamicTestInvocationContext context,
            ExtensionContext extensionContext) throws Throwable {
        proceedUnlessDiscovering(invocation);
    }

    @Override
    public void interceptBeforeAllMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> context,
            ExtensionContext extensionContext) throws Throwable {
        proceedUnlessDiscovering(invocation);
    }

    @Override
    public void interceptBeforeEachMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> context,
            ExtensionContext extensionContext) throws Throwable {
        proceedUnlessDiscovering(invocation);
    }

    @Override
    public void interceptAfterEachMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> context,
            ExtensionContext extensionContext) throws Throwable {
        proceedUnlessDiscovering(invocation);
    }

    @Override
    public void interceptAfterAllMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> context,
            ExtensionContext extensionContext) throws Throwable {
        proceedUnlessDiscovering(invocation);
    }

    private static void proceedUnlessDiscovering(Invocation<Void> invocation) throws Throwable {
        if (ENABLED && discovering(callers())) {
            invocation.skip();
        } else {
            invocation.proceed();
        }
    }

    /** True when PIT's test finder runs inside a mutation minion: the only place where nothing need run. */
    static boolean discovering(Set<String> callers) {
        return callers.contains(FINDER) && callers.contains(MUTATION_MINION);
    }

    private static Set<String> callers() {
        return StackWalker.getInstance().walk(frames -> frames.map(StackWalker.StackFrame::getClassName)
                .filter(name -> name.startsWith("org.pitest.")).collect(Collectors.toSet()));
    }
}
