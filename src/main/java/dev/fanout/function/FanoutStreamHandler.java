package dev.fanout.function;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.batch.http.HttpAnswer;
import dev.fanout.batch.http.RequestBatch;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.startup.EntryPointStart;
import dev.fanout.startup.Priming;
import dev.fanout.startup.SqsClientPriming;
import dev.fanout.startup.StartPriming;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.ItemParser;
import dev.fanout.work.builtin.DelayFunction;
import dev.fanout.work.builtin.DigestFunction;
import io.quarkus.amazon.lambda.runtime.QuarkusStreamHandler;

/**
 * The class Lambda's Java runtime loads (template.yaml's Handler): Quarkus's stream handler, with a failed
 * init reported by its cause. Quarkus reports any failed start as "Quarkus manual initialization failed";
 * Lambda shows that message as the function's error and the cause is only in the log. This rethrows the
 * innermost cause, so that Lambda shows, for instance, "no results queue: set RESULTS_QUEUE_URL".
 */
public final class FanoutStreamHandler implements RequestStreamHandler {

    private final QuarkusStreamHandler quarkus;

    public FanoutStreamHandler() {
        // before Quarkus starts, so that what the first event needs loads on the other core meanwhile (here, not in
        // a static initialiser: a native build initialises classes at build time, where no thread may start)
        StartPriming.start(primingJobs(StartPriming.entryPoint()));
        try {
            quarkus = new QuarkusStreamHandler();
        } catch (RuntimeException e) {
            throw causeOf(e);
        }
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        quarkus.handleRequest(input, output, context);
    }

    /**
     * The jobs the start's priming runs for {@code entryPoint}, by thread name: for {@code sqs}, {@code kinesis}
     * and {@code dynamodb} (whose results go out through the same client) the SQS client's request path and the
     * entry point's priming run, for {@code http} the priming run (its queued mode's client is built at init by
     * the warm-up), none for anything else.
     */
    static Map<String, Runnable> primingJobs(String entryPoint) {
        Map<String, Runnable> jobs = new LinkedHashMap<>();
        boolean sendsResults = "sqs".equals(entryPoint) || StreamStart.covers(entryPoint);
        if (sendsResults) {
            jobs.put("fanout-sqs-client-priming", SqsClientPriming::prime);
        }
        if (sendsResults || "http".equals(entryPoint)) {
            jobs.put("fanout-batch-path-priming", () -> onPlainObjects(entryPoint).prime());
        }
        return jobs;
    }

    /**
     * The entry point's start on plain objects of its own (a mapper, the built-in functions, the engine), for
     * the priming run before Quarkus has built anything: nothing here is shared with the beans Quarkus builds.
     */
    static EntryPointStart onPlainObjects(String entryPoint) {
        // with the modules on the class path, as Quarkus's mappers have them (Joda-Time, java.time, Optional)
        var mapper = new ObjectMapper().findAndRegisterModules();
        var functions = ItemFunctions.builder(mapper).add(new DigestFunction(Priming.DIGEST_ROUNDS))
                .add(new DelayFunction(Duration.ofSeconds(1))).build();
        var parser = new ItemParser(mapper, Optional.empty());
        var pool = new WorkerPool(Limits.of(Priming.ITEMS.size()));
        if ("http".equals(entryPoint)) {
            var settings = new RequestBatch.Settings(Duration.ofSeconds(29), Priming.ITEMS.size(),
                    HttpAnswer.LAMBDA_RESPONSE_LIMIT, Priming.ITEMS.size());
            var batches = new HttpBatchProcessor(pool, functions, parser, mapper, settings, Optional.empty());
            return new HttpStart(() -> batches, mapper);
        }
        if (StreamStart.covers(entryPoint)) {
            return StreamStart.onPlainObjects(entryPoint, pool, functions, parser, mapper);
        }
        return new SqsStart(() -> null, () -> null, pool, functions, parser, mapper);
    }

    /** The innermost exception with a message, as an unchecked exception the runtime reports by type and message. */
    static RuntimeException causeOf(RuntimeException failure) {
        Throwable cause = failure;
        for (Throwable t = failure; t != null && t.getCause() != t; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                cause = t;
            }
        }
        return cause instanceof RuntimeException unchecked ? unchecked
                : new IllegalStateException(cause.getClass().getSimpleName() + ": " + cause.getMessage(), failure);
    }
}
