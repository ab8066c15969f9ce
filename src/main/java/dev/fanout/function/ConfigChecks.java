package dev.fanout.function;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.http.HttpSettings;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;

/**
 * Every {@code fanout.*} setting that can be known bad before the first event is checked once, at start, before
 * anything is built from it: a deployment that cannot work fails its init with one message that names each bad
 * setting (its property and environment variable), what it must be and what it was, instead of handing every
 * record back until the dead-letter queue has them all. The bounds are documented beside each setting in
 * docs/configuration.md.
 * <p>
 * The checks compare numbers and parse two URLs, without lambdas or streams (each first use of one spins a class at
 * run time; with them the first call took 64-170 ms here, without 12-31 ms, on 2 cores under a load average of 13;
 * a second call takes under 1 ms).
 */
@ApplicationScoped
public class ConfigChecks {

    /** Lambda's longest function timeout: no time setting of one invocation can be longer. */
    static final Duration LAMBDA_MAX_TIMEOUT = Duration.ofMinutes(15);
    /** Most records of one SQS event (a batch size of 10,000): more items than that never run at once. */
    static final int MAX_CONCURRENCY = 10_000;
    /** Lambda's memory sizes, in MB. */
    static final int MIN_MEMORY_MB = 128;
    static final int MAX_MEMORY_MB = 10_240;
    /** Bounds of the sink's own settings ({@link SqsResultsSink.Settings}). */
    static final int MAX_SEND_CONCURRENCY = 1024;
    static final int MAX_SEND_ATTEMPTS = 100;
    /** An AWS region's name: us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ... */
    /** The entry points that fan results in to the results queue: the SQS and the stream entry points. */
    static final java.util.Set<String> FANS_IN = java.util.Set.of("sqs", "kinesis", "dynamodb");
    static final Pattern REGION = Pattern.compile("[a-z]{2,}(-[a-z0-9]+)+-[0-9]+");

    @ConfigProperty(name = "quarkus.lambda.handler", defaultValue = "sqs")
    String entryPoint;

    @Inject
    FanoutConfig config;

    @Inject
    Instance<ItemFunctions> handlers;

    /** Before {@code Warmup} builds the entry point from these settings. */
    void onStart(@Observes @Priority(Interceptor.Priority.LIBRARY_BEFORE) StartupEvent event) {
        enforce(config, entryPoint, new ItemTypes() {
            @Override
            public Set<String> get() {
                return handlers.get().types();
            }
        });
    }

    /** What lists the item types a default type must be one of; asked only when a default type is set. */
    interface ItemTypes {
        Set<String> get();
    }

    /** @throws IllegalStateException naming every setting that cannot work, if any */
    static void enforce(FanoutConfig config, String entryPoint, ItemTypes types) {
        List<String> problems = problems(config, entryPoint, types);
        if (!problems.isEmpty()) {
            throw new IllegalStateException(String.join("; ", problems));
        }
    }

    /** Every setting that cannot work, each with what it must be; empty if all can. */
    static List<String> problems(FanoutConfig config, String entryPoint, ItemTypes types) {
        var p = new Problems();
        // the entry points whose results go to the results queue: they need it, and time to send to it
        boolean fansIn = FANS_IN.contains(entryPoint);

        p.between("fanout.max-concurrency", config.maxConcurrency(), 1, MAX_CONCURRENCY);
        if (config.itemTimeout().isPresent()) {
            p.positive("fanout.item-timeout", config.itemTimeout().get());
        }
        p.positive("fanout.cutoff-margin", config.cutoffMargin());
        p.notNegative("fanout.cancel-grace", config.cancelGrace());
        p.notNegative("fanout.response-margin", config.responseMargin());
        p.positive("fanout.fallback-timeout", config.fallbackTimeout());
        if (config.defaultType().isPresent()) {
            String type = config.defaultType().get();
            if (type.isBlank()) {
                p.add("fanout.default-type", "must name an item type, was blank");
            } else if (!types.get().contains(type)) {
                p.add("fanout.default-type", "must be an item type of this function (" + String.join(", ",
                        new TreeSet<>(types.get())) + "), was '" + type + "'");
            }
        }
        p.between("fanout.digest-max-rounds", config.digestMaxRounds(), 1, Integer.MAX_VALUE);
        AdaptiveLimits.problems(config.adaptive()).forEach(problem -> p.add(problem.property(), problem.what()));
        p.positive("fanout.delay-max", config.delayMax());

        FanoutConfig.Results r = config.results();
        String resultsQueue = r.queueUrl().orElse("").isBlank() ? null : r.queueUrl().get();
        if (fansIn && resultsQueue == null) {
            // the message Lambda has shown for this since the first release (StartupIT)
            p.problems.add("no results queue: set RESULTS_QUEUE_URL (fanout.results.queue-url)");
        }
        if (resultsQueue != null) {
            p.queueUrl("fanout.results.queue-url", resultsQueue);
        }
        if (r.endpoint().isPresent()) {
            p.endpoint("fanout.results.endpoint", r.endpoint().get());
        }
        if (r.region().isBlank()) {
            p.add("fanout.results.region", "must name an AWS region, was blank");
        } else if (r.endpoint().isEmpty() && !REGION.matcher(r.region()).matches()) {
            p.add("fanout.results.region", "must be an AWS region such as us-east-1 (or set fanout.results.endpoint),"
                    + " was '" + r.region() + "'");
        }
        p.between("fanout.results.max-message-bytes", r.maxMessageBytes(), 1, SqsResultsSink.SQS_MAX_BYTES);
        // at least one message's worth (a message over the limit is reported above, not again here)
        p.between("fanout.results.max-batch-bytes", r.maxBatchBytes(),
                Math.clamp(r.maxMessageBytes(), 1, SqsResultsSink.SQS_MAX_BYTES), SqsResultsSink.SQS_MAX_BYTES);
        p.between("fanout.results.send-concurrency", r.sendConcurrency(), 1, MAX_SEND_CONCURRENCY);
        p.between("fanout.results.max-attempts", r.maxAttempts(), 1, MAX_SEND_ATTEMPTS);
        p.positive("fanout.results.backoff-base", r.backoffBase());
        if (r.backoffCap().compareTo(r.backoffBase()) < 0) {
            p.add("fanout.results.backoff-cap", "must be at least fanout.results.backoff-base (" + r.backoffBase()
                    + "), was " + r.backoffCap());
        }
        p.positive("fanout.results.min-call-time", r.minCallTime());
        FanoutConfig.HttpApi api = config.httpApi();
        p.positive("fanout.http-api.timeout", api.timeout());
        p.between("fanout.http-api.memory-mb", api.memoryMb(), MIN_MEMORY_MB, MAX_MEMORY_MB);
        // how the invocation's time is shared, once each setting is valid on its own
        if (!p.about("fanout.cutoff-margin", "fanout.cancel-grace", "fanout.response-margin",
                "fanout.results.min-call-time", "fanout.http-api.timeout", "fanout.http-api.memory-mb")) {
            TimeBudget.of(config).problems(fansIn, api.timeout()).forEach(problem -> p.add(problem.setting(),
                    problem.message()));
        }
        p.between("fanout.http-api.max-items", api.maxItems(), 1, Integer.MAX_VALUE);
        p.between("fanout.http-api.max-queued-items", api.maxQueuedItems(), 1, Integer.MAX_VALUE);
        if (!api.workQueueUrl().orElse("").isBlank()) {
            p.queueUrl("fanout.http-api.work-queue-url", api.workQueueUrl().get());
        }

        FanoutConfig.Http http = config.http();
        p.positive("fanout.http.connect-timeout", http.connectTimeout());
        p.positive("fanout.http.default-timeout", http.defaultTimeout());
        p.between("fanout.http.max-body-bytes", http.maxBodyBytes(), 0, HttpSettings.MAX_BODY_BYTES_LIMIT);
        p.between("fanout.http.max-attempts", http.maxAttempts(), 1, HttpSettings.MAX_ATTEMPTS_LIMIT);
        p.between("fanout.http.max-redirects", http.maxRedirects(), 0, HttpSettings.MAX_REDIRECTS_LIMIT);
        p.between("fanout.http.hold-after-failures", http.holdAfterFailures(), 0, Integer.MAX_VALUE);
        // the header names and the allow list are read as the http handler reads them (it is built on the first http
        // item); only when the numbers above hold, so that each problem is reported once
        if (!p.about("fanout.http.")) {
            try {
                new HttpSettings(http.connectTimeout(), http.defaultTimeout(), http.maxBodyBytes(), http.maxAttempts(),
                        http.maxRedirects(), http.responseHeaders(),
                        trimmed(http.allow().orElse(List.of())), http.ssrfGuard(), 1, http.holdAfterFailures());
            } catch (IllegalArgumentException e) {
                String setting = e.getMessage().startsWith("responseHeaders") ? "fanout.http.response-headers"
                        : "fanout.http.allow";
                p.add(setting, e.getMessage());
            }
        }
        return p.problems;
    }

    /** As {@link Wiring} hands the allow list to the http handler. */
    private static List<String> trimmed(List<String> values) {
        List<String> trimmed = new ArrayList<>(values.size());
        for (String value : values) {
            if (!value.isBlank()) {
                trimmed.add(value.trim());
            }
        }
        return trimmed;
    }

    /** Settings that application.properties reads from a variable of another name (which Lambda or the template sets). */
    static final Map<String, String> VARIABLES = Map.of("fanout.results.queue-url", "RESULTS_QUEUE_URL",
            "fanout.http-api.work-queue-url", "WORK_QUEUE_URL", "fanout.results.region", "AWS_REGION",
            "fanout.http-api.memory-mb", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE");

    /** The environment variable of a setting: its own name in application.properties, else as SmallRye Config maps it. */
    static String environmentVariable(String property) {
        return VARIABLES.getOrDefault(property, property.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_'));
    }

    private static final class Problems {
        final List<String> problems = new ArrayList<>();

        /** Whether a problem was found with a setting whose name starts with one of these. */
        boolean about(String... properties) {
            for (String problem : problems) {
                for (String property : properties) {
                    if (problem.startsWith(property)) {
                        return true;
                    }
                }
            }
            return false;
        }

        void add(String property, String what) {
            problems.add(property + " (" + environmentVariable(property) + ") " + what);
        }

        void between(String property, long value, long min, long max) {
            if (value < min || value > max) {
                add(property, max == Integer.MAX_VALUE ? "must be at least " + min + ", was " + value
                        : "must be between " + min + " and " + max + ", was " + value);
            }
        }

        void positive(String property, Duration value) {
            if (value.isNegative() || value.isZero()) {
                add(property, "must be positive, was " + value);
            } else if (value.compareTo(LAMBDA_MAX_TIMEOUT) > 0) {
                add(property, "must be at most Lambda's longest timeout (15 minutes), was " + value);
            }
        }

        void notNegative(String property, Duration value) {
            if (value.isNegative()) {
                add(property, "must not be negative, was " + value);
            } else if (value.compareTo(LAMBDA_MAX_TIMEOUT) > 0) {
                add(property, "must be at most Lambda's longest timeout (15 minutes), was " + value);
            }
        }

        /** An SQS queue URL: https://sqs.us-east-1.amazonaws.com/123456789012/results (http for a local server). */
        void queueUrl(String property, String url) {
            String why = httpUrlProblem(url, true);
            if (why != null) {
                add(property, "must be an SQS queue URL, an absolute http(s) URL with a path"
                        + " such as https://sqs.us-east-1.amazonaws.com/123456789012/results; '" + url + "' " + why);
            }
        }

        void endpoint(String property, URI endpoint) {
            String why = httpUrlProblem(endpoint.toString(), false);
            if (why != null) {
                add(property, "must be an absolute http(s) URL such as http://127.0.0.1:9324; '" + endpoint + "' " + why);
            }
        }
    }

    /** Why {@code text} is not an absolute http(s) URL with a host (and a path, if {@code needsPath}); null if it is. */
    static String httpUrlProblem(String text, boolean needsPath) {
        URI uri;
        try {
            uri = new URI(text.strip());
        } catch (URISyntaxException e) {
            return "is not a URL (" + e.getReason() + " at index " + e.getIndex() + ")";
        }
        if (uri.getScheme() == null) {
            return "has no scheme";
        }
        if (!uri.getScheme().equalsIgnoreCase("https") && !uri.getScheme().equalsIgnoreCase("http")) {
            return "is not http(s)";
        }
        if (uri.getHost() == null) {
            return "has no host";
        }
        if (needsPath && (uri.getPath() == null || uri.getPath().isEmpty() || uri.getPath().equals("/"))) {
            return "has no path (the account and the queue's name)";
        }
        return null;
    }
}
