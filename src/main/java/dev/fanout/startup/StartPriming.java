package dev.fanout.startup;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Loads and links what the first event needs on threads of their own while Quarkus starts on the main
 * thread, which would otherwise load it all one class after the other: Quarkus's start is mostly
 * single-threaded, and this machine has two cores (on Lambda, a function of more than 1,769 MB has more
 * than one vCPU). The jobs are the entry point's ({@code FanoutStreamHandler} names them): the SQS client's
 * request path ({@link SqsClientPriming}) and the entry point's priming run on objects of its own
 * ({@link EntryPointStart#prime()}). None of them needs configuration or touches the network.
 * <p>
 * Started by the handler class's constructor, the first code of Fanout's that Lambda runs (on the JVM; a
 * native build has its own poll loop and primes nothing). Priming only saves time: a job that fails is
 * reported by the start-up log ({@link Warmup}) and changes nothing else.
 */
public final class StartPriming {

    /** The jobs started, by thread name; each runs once per JVM. */
    private static final Map<String, Thread> STARTED = new ConcurrentHashMap<>();
    private static final Map<String, Throwable> FAILURES = new ConcurrentHashMap<>();

    private StartPriming() {
    }

    /**
     * Starts {@code jobs} (by thread name), unless priming is switched off ({@code fanout.start-priming}) or
     * the JVM has a single processor, where the jobs would only take turns with Quarkus's start.
     */
    public static List<Thread> start(Map<String, Runnable> jobs) {
        if (!enabled() || Runtime.getRuntime().availableProcessors() < 2) {
            return List.of();
        }
        return startEach(jobs);
    }

    /**
     * Read before Quarkus starts, as Quarkus will read {@code fanout.start-priming}: the system property, else
     * the environment variable {@code FANOUT_START_PRIMING}, else on.
     */
    static boolean enabled() {
        String property = System.getProperty("fanout.start-priming");
        String value = property != null ? property : System.getenv("FANOUT_START_PRIMING");
        return value == null || !value.trim().equalsIgnoreCase("false");
    }

    /** Starts each job on a daemon thread of its name, once per JVM: a name started before is not started again. */
    static List<Thread> startEach(Map<String, Runnable> jobs) {
        // what Quarkus's generated application sets as it starts: the jobs may log (the SDK through SLF4J) before
        // it does, and the first use of java.util.logging would otherwise fix the JDK's own log manager for good
        System.setProperty("java.util.logging.manager", "org.jboss.logmanager.LogManager");
        List<Thread> threads = new ArrayList<>(jobs.size());
        jobs.forEach((name, job) -> threads.add(STARTED.computeIfAbsent(name,
                n -> Thread.ofPlatform().daemon().name(n).start(() -> {
                    try {
                        job.run();
                    } catch (Throwable t) {
                        FAILURES.put(n, t);
                    }
                }))));
        return threads;
    }

    /**
     * The entry point as Quarkus will read it: the system property {@code quarkus.lambda.handler}, else the
     * environment variable {@code QUARKUS_LAMBDA_HANDLER}, else {@code sqs} (application.properties).
     */
    public static String entryPoint() {
        String property = System.getProperty("quarkus.lambda.handler");
        if (property != null) {
            return property;
        }
        String variable = System.getenv("QUARKUS_LAMBDA_HANDLER");
        return variable != null ? variable : "sqs";
    }

    /**
     * Waits, at most {@code limit} in all, for the jobs started to end: SnapStart's snapshot is better taken
     * with the priming done than in the middle of it.
     *
     * @return whether every job ended
     */
    static boolean await(Duration limit) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        for (Thread thread : STARTED.values()) {
            if (!thread.join(Duration.ofNanos(Math.max(0, end - System.nanoTime())))) {
                return false;
            }
        }
        return true;
    }

    /** The jobs that failed, by thread name, with what went wrong (for the start-up log). */
    static Map<String, Throwable> failures() {
        return Map.copyOf(FAILURES);
    }
}
