package dev.fanout.function;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How an invocation's time is split, counted back from its deadline: the one home of the settings that share
 * it, checked together at start ({@link ConfigChecks}) and handed to the parts ({@link Wiring}).
 *
 * <pre>
 * queue-fed entry points (sqs, kinesis, dynamodb):
 *   items run | cut-off | cancel grace | fan-in: results sent        | response margin             | deadline
 *             |&lt;------------------------- cutoff margin ----------------------------------------&gt;|
 *   the fan-in's share = cutoff margin - cancel grace - response margin, more than one call (min call time);
 *   the response margin holds the redelivery's visibility changes and, last, the response reserve
 * http:
 *   items run | cut-off | cancel grace | the answer assembled and handed over                     | deadline
 *             |&lt;------------------ http cut-off margin (derived from the answer's size) ----------&gt;|
 * </pre>
 *
 * @param cutoffMargin     {@code fanout.cutoff-margin}: the engine stops this long before the deadline
 * @param cancelGrace      {@code fanout.cancel-grace}: how long cancelled items get to stop
 * @param responseMargin   {@code fanout.response-margin}: kept after the fan-in for the response
 * @param minCallTime      {@code fanout.results.min-call-time}: no call to the results queue with less left
 * @param responseReserve  {@code fanout.retry.response-reserve}: the part of the response margin that the
 *                         redelivery's visibility changes leave to the response itself
 * @param httpCutoffMargin the HTTP entry point's cut-off margin: {@code fanout.http-api.cutoff-margin}, or
 *                         derived from the largest answer's hand-over time ({@link #derivedHttpMargin})
 * @param httpConfigured   whether {@code httpCutoffMargin} was set rather than derived
 */
public record TimeBudget(Duration cutoffMargin, Duration cancelGrace, Duration responseMargin, Duration minCallTime,
        Duration responseReserve, Duration httpCutoffMargin, boolean httpConfigured) {

    /** Of the derived HTTP margin: how many times the measured hand-over time it allows. */
    static final int ANSWER_FACTOR = 3;

    /** Lambda's memory size with one full vCPU; less memory, proportionally less CPU. */
    static final int FULL_VCPU_MB = 1_769;

    /**
     * Assembling, writing and handing over (loopback) a 6,291,556-byte answer in a fresh JVM with Lambda's
     * flags, the slowest of three with the first one cold: 179 to 287 ms, median 233 ms, over 5 JVMs on one
     * core of the shared build machine at load average 4 (docs/http-api.md, {@code AnswerTimeFigures}); the
     * maximum, rounded up. A benchmark's figure, not measured at start: measuring it there (three 6 MB
     * answers, the first one cold) added about 0.2 s and 60 MiB to every cold start of the HTTP function.
     */
    static final Duration ANSWER_ON_ONE_VCPU = Duration.ofMillis(300);

    /** The budget a deployment's settings give. */
    static TimeBudget of(FanoutConfig config) {
        FanoutConfig.HttpApi api = config.httpApi();
        boolean configured = api.cutoffMargin().isPresent();
        Duration http = configured ? api.cutoffMargin().get()
                : derivedHttpMargin(config.cancelGrace(), Math.max(1, api.memoryMb()));
        return new TimeBudget(config.cutoffMargin(), config.cancelGrace(), config.responseMargin(),
                config.results().minCallTime(), config.retry().responseReserve(), http, configured);
    }

    /**
     * The HTTP cut-off margin for a function of {@code memoryMb}: cancel grace, plus {@value #ANSWER_FACTOR}
     * times the benchmark's answer time, scaled up by the missing share of a vCPU below {@value #FULL_VCPU_MB}
     * MB (Lambda gives CPU in proportion to memory). The factor covers what a measurement cannot: a garbage
     * collection at the wrong moment, a neighbour taking the CPU.
     */
    static Duration derivedHttpMargin(Duration cancelGrace, int memoryMb) {
        if (memoryMb <= 0) {
            throw new IllegalArgumentException("memory size must be positive, got " + memoryMb + " MB");
        }
        long answerMillis = memoryMb >= FULL_VCPU_MB ? ANSWER_ON_ONE_VCPU.toMillis()
                : Math.ceilDiv(ANSWER_ON_ONE_VCPU.toMillis() * FULL_VCPU_MB, memoryMb);
        return cancelGrace.plus(Duration.ofMillis(answerMillis).multipliedBy(ANSWER_FACTOR));
    }

    /** The fan-in's share: what the cut-off margin leaves after the cancel grace and the response margin. */
    public Duration fanIn() {
        return cutoffMargin.minus(cancelGrace).minus(responseMargin);
    }

    /** The longest the redelivery's visibility changes may take: the response margin less its reserve. */
    public Duration redelivery() {
        return responseMargin.minus(responseReserve);
    }

    /** A setting of the budget that cannot work, and what it must be. */
    record Problem(String setting, String message) {
    }

    /**
     * The relations between the settings that cannot hold, each naming the setting to change; the settings'
     * own bounds (positive, not negative) are checked one by one before this.
     *
     * @param fansIn     whether the entry point sends results to a queue (sqs, kinesis, dynamodb)
     * @param apiTimeout {@code fanout.http-api.timeout}, which a configured HTTP margin must stay under
     */
    List<Problem> problems(boolean fansIn, Duration apiTimeout) {
        List<Problem> problems = new ArrayList<>();
        if (fansIn && fanIn().compareTo(minCallTime) <= 0) {
            // otherwise every invocation would cut off too late to send any result, and hand its whole batch back
            Duration needed = cancelGrace.plus(responseMargin).plus(minCallTime);
            problems.add(new Problem("fanout.cutoff-margin", "leaves no time for fan-in: it must exceed"
                    + " fanout.cancel-grace + fanout.response-margin + fanout.results.min-call-time (" + needed
                    + "), was " + cutoffMargin));
        }
        if (responseReserve.isNegative() || responseReserve.compareTo(responseMargin) >= 0) {
            // the visibility changes run inside the response margin, and must leave the reserve of it for the answer
            problems.add(new Problem("fanout.retry.response-reserve", "must be at least zero and below"
                    + " fanout.response-margin (" + responseMargin + "), was " + responseReserve));
        }
        if (httpConfigured && (httpCutoffMargin.compareTo(cancelGrace) <= 0
                || httpCutoffMargin.compareTo(apiTimeout) >= 0)) {
            problems.add(new Problem("fanout.http-api.cutoff-margin", "must exceed fanout.cancel-grace ("
                    + cancelGrace + ") and be less than fanout.http-api.timeout (" + apiTimeout + "), was "
                    + httpCutoffMargin));
        }
        return problems;
    }
}
