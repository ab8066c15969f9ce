package dev.fanout.bench;

/**
 * What a run costs on Lambda. The prices are assumptions, stated in the report with their source.
 */
final class LambdaPricing {

    /** x86_64, US East (N. Virginia), first tier (first 6 billion GB-seconds a month). */
    static final double X86_PER_GB_SECOND = 0.0000166667;
    /** arm64, US East (N. Virginia), first tier (first 7.5 billion GB-seconds a month). */
    static final double ARM64_PER_GB_SECOND = 0.0000133334;
    static final double PER_REQUEST = 0.20 / 1_000_000;
    static final String SOURCE = "https://aws.amazon.com/lambda/pricing/ (US East (N. Virginia), first tier; "
            + "the prices AWS has listed since arm64 functions launched in September 2021, as quoted in copies of "
            + "that page up to May 2026; not re-checked on the run date)";

    /** Lambda gives one vCPU-second per second at 1,769 MB, in proportion below and above. */
    static final int MB_PER_VCPU = 1769;
    static final int MAX_MB = 10_240;

    private LambdaPricing() {
    }

    /** The memory setting whose CPU share equals {@code cores} full cores (capped at Lambda's maximum). */
    static int memoryMbForCores(int cores) {
        return Math.min(cores * MB_PER_VCPU, MAX_MB);
    }

    /**
     * Dollars per million items when each invocation runs a batch of {@code items} in {@code wallSeconds}
     * at {@code memoryMb}: duration (billed in GB-seconds, 1 GB = 1,024 MB) plus one request per batch.
     */
    static double perMillionItems(double wallSeconds, int items, int memoryMb, double pricePerGbSecond) {
        double invocations = 1_000_000.0 / items;
        return invocations * (wallSeconds * memoryMb / 1024.0 * pricePerGbSecond + PER_REQUEST);
    }
}
