package dev.fanout.work.limits;

import java.util.List;

/**
 * What the per-service limits did in one report period (one invocation): the services used, the lowest and
 * highest limit in force among them, and the permits waited for.
 *
 * @param services the services used in the period, each with its own figures
 */
public record LimitReport(List<Service> services) {

    /** Nothing used. */
    public static final LimitReport EMPTY = new LimitReport(List.of());

    public LimitReport {
        services = List.copyOf(services);
    }

    /**
     * One service in one period.
     *
     * @param service the service's name (for http items: scheme://host:port)
     * @param from    its limit at the period's start
     * @param to      its limit at the period's end
     * @param lowest  the lowest limit in force in the period
     * @param highest the highest limit in force in the period
     * @param waited  permits of it that were waited for (not granted at once)
     */
    public record Service(String service, int from, int to, int lowest, int highest, long waited) {

        public boolean changed() {
            return from != to || lowest != highest;
        }
    }

    public boolean isEmpty() {
        return services.isEmpty();
    }

    /** The lowest limit in force in the period, over every service used; 0 if none was. */
    public int lowest() {
        return services.stream().mapToInt(Service::lowest).min().orElse(0);
    }

    /** The highest limit in force in the period, over every service used; 0 if none was. */
    public int highest() {
        return services.stream().mapToInt(Service::highest).max().orElse(0);
    }

    /** Permits waited for in the period, over every service. */
    public long waited() {
        return services.stream().mapToLong(Service::waited).sum();
    }
}
