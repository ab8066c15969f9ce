package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.fanout.batch.RedeliveryBackoff;
import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.FanoutSettings;

/** fanout.retry.*: the defaults a deployment gets, and the settings refused at start with their exact messages. */
class RetrySettingsTest {

    static FanoutConfig config(Map<String, String> properties) {
        return FanoutSettings.config(properties);
    }

    @Test
    void theDefaults() {
        FanoutConfig config = config(Map.of());
        var redelivery = Wiring.redelivery(config, ElasticMq.shared().client());
        assertThat(config.retry().backoff()).isTrue();
        assertThat(redelivery.responseReserve()).isEqualTo(Duration.ofMillis(100));
        assertThat(redelivery.backoff().settings()).isEqualTo(new RedeliveryBackoff.Settings(Duration.ofSeconds(10),
                Duration.ofMinutes(15), Duration.ofSeconds(2), RedeliveryBackoff.Jitter.DECORRELATED));
    }

    @Test
    void fullJitterAndTwelveHours() {
        var redelivery = Wiring.redelivery(config(Map.of("fanout.retry.jitter", " Full",
                "fanout.retry.max-delay", "12h")), ElasticMq.shared().client());
        assertThat(redelivery.backoff().settings().jitter()).isEqualTo(RedeliveryBackoff.Jitter.FULL);
        assertThat(redelivery.backoff().settings().max()).isEqualTo(Duration.ofHours(12));
    }

    @Test
    void refusedAtStart() {
        var sqs = ElasticMq.shared().client();
        assertThatThrownBy(() -> Wiring.redelivery(config(Map.of("fanout.retry.max-delay", "13h")), sqs))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("fanout.retry: the max delay must be at most SQS's 12 h visibility limit, was PT13H");
        assertThatThrownBy(() -> Wiring.redelivery(config(Map.of("fanout.retry.base-delay", "500ms")), sqs))
                .hasMessage("fanout.retry: the base delay must be whole seconds, not negative (SQS's visibility"
                        + " timeout is in seconds), was PT0.5S");
        assertThatThrownBy(() -> Wiring.redelivery(config(Map.of("fanout.retry.jitter", "equal")), sqs))
                .hasMessage("fanout.retry.jitter must be full or decorrelated, was equal");
        assertThatThrownBy(() -> Wiring.redelivery(config(Map.of("fanout.retry.response-reserve", "250ms")), sqs))
                .hasMessage("fanout.retry.response-reserve PT0.25S must be at least zero and below"
                        + " fanout.response-margin PT0.25S");
    }
}
