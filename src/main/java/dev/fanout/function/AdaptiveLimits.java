package dev.fanout.function;

import java.util.ArrayList;
import java.util.List;

import dev.fanout.work.limits.LimitAlgorithm;
import dev.fanout.work.limits.LimitSettings;
import dev.fanout.work.limits.ServiceLimits;

/** The per-service limits from the configuration ({@code fanout.adaptive.*}), and the checks of those settings. */
final class AdaptiveLimits {

    static final int MAX_SERVICES = 100_000;

    /** A setting that cannot work, and why. */
    record Problem(String property, String what) {
    }

    private AdaptiveLimits() {
    }

    /**
     * The environment's limits: empty (nothing of Netflix's library is loaded until a first permit), bounded by the
     * engine's {@code fanout.max-concurrency}; {@link ServiceLimits#DISABLED} when off.
     */
    static ServiceLimits serviceLimits(FanoutConfig config) {
        FanoutConfig.Adaptive a = config.adaptive();
        if (!a.enabled()) {
            return ServiceLimits.DISABLED;
        }
        // the settings were checked at start (ConfigChecks); a value refused there never reaches this
        return new ServiceLimits(new LimitSettings(true, LimitAlgorithm.of(a.algorithm()), a.initialLimit(),
                a.minLimit(), a.maxLimit(), a.maxServices()).boundedBy(config.maxConcurrency()));
    }

    /** What is wrong with the settings, one problem per setting; nothing when the limits are off. */
    static List<Problem> problems(FanoutConfig.Adaptive a) {
        List<Problem> problems = new ArrayList<>();
        if (!a.enabled()) {
            return problems;
        }
        try {
            LimitAlgorithm.of(a.algorithm());
        } catch (IllegalArgumentException unknown) {
            problems.add(new Problem("fanout.adaptive.algorithm",
                    "must be aimd, vegas or gradient2, was '" + a.algorithm() + "'"));
        }
        if (a.minLimit() < 1) {
            problems.add(new Problem("fanout.adaptive.min-limit", "must be at least 1, was " + a.minLimit()));
        }
        if (a.maxLimit() < Math.max(1, a.minLimit())) {
            problems.add(new Problem("fanout.adaptive.max-limit", "must be at least fanout.adaptive.min-limit ("
                    + a.minLimit() + "), was " + a.maxLimit()));
        }
        if (a.minLimit() >= 1 && a.maxLimit() >= a.minLimit()
                && (a.initialLimit() < a.minLimit() || a.initialLimit() > a.maxLimit())) {
            problems.add(new Problem("fanout.adaptive.initial-limit", "must be between fanout.adaptive.min-limit ("
                    + a.minLimit() + ") and fanout.adaptive.max-limit (" + a.maxLimit() + "), was "
                    + a.initialLimit()));
        }
        if (a.maxServices() < 1 || a.maxServices() > MAX_SERVICES) {
            problems.add(new Problem("fanout.adaptive.max-services", "must be between 1 and " + MAX_SERVICES
                    + ", was " + a.maxServices()));
        }
        return problems;
    }
}
