package dev.fanout.testing;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.function.FanoutConfig;
import dev.fanout.function.Wiring;
import dev.fanout.work.http.HttpSettings;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;

/**
 * Settings as a deployment gets them: Fanout's configuration mapping read by SmallRye Config with the
 * properties given and {@code @WithDefault} for the rest, turned into the parts' settings by {@link Wiring}.
 * The defaults have one home, {@link FanoutConfig}; a test names what it changes by the property a user sets.
 */
public final class FanoutSettings {

    private FanoutSettings() {
    }

    /** The configuration with {@code properties} (name, value, name, value ...) over the defaults. */
    public static FanoutConfig config(String... properties) {
        return config(pairs(properties, ""));
    }

    /** The configuration with {@code properties} over the defaults. */
    public static FanoutConfig config(Map<String, String> properties) {
        // Quarkus reads durations such as "3s" with its own converter; a plain SmallRye config needs it named
        return new SmallRyeConfigBuilder().withMapping(FanoutConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(properties, "test", 500)).build()
                .getConfigMapping(FanoutConfig.class);
    }

    /**
     * The http function's settings with {@code properties} (name, value ...) over the defaults: a name without
     * the {@code fanout.} prefix is under {@code fanout.http.} ({@code "allow", "127.0.0.1/32"}), a full name is
     * taken as it is ({@code "fanout.max-concurrency", "8"}: the pool's connections).
     */
    public static HttpSettings http(String... properties) {
        return Wiring.httpSettings(config(pairs(properties, "fanout.http.")));
    }

    /**
     * The results queue's settings for {@code queueUrl} with {@code properties} (name, value ...) over the
     * defaults: a name without the {@code fanout.} prefix is under {@code fanout.results.}.
     */
    public static SqsResultsSink.Settings results(String queueUrl, String... properties) {
        Map<String, String> all = pairs(properties, "fanout.results.");
        all.put("fanout.results.queue-url", queueUrl);
        return Wiring.sinkSettings(config(all));
    }

    private static Map<String, String> pairs(String[] properties, String prefix) {
        if (properties.length % 2 != 0) {
            throw new IllegalArgumentException("properties come in pairs of name and value");
        }
        Map<String, String> map = new HashMap<>();
        for (int i = 0; i < properties.length; i += 2) {
            String name = properties[i].startsWith("fanout.") ? properties[i] : prefix + properties[i];
            map.put(name, properties[i + 1]);
        }
        return map;
    }
}
