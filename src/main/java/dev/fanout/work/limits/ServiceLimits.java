package dev.fanout.work.limits;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

import dev.fanout.engine.Deadline;
import dev.fanout.engine.NotAdmittedException;
import dev.fanout.engine.Slot;

/**
 * The per-service limits of one execution environment: kept across its warm invocations (what a limit learned
 * is kept), at most {@link LimitSettings#maxServices()} services at once (the least recently used is forgotten),
 * and forgotten all at once by {@link #reset()} (after a SnapStart restore, when the services may be other
 * ones, or in another state). A service's limit is built at its first permit: a function that calls no service
 * loads nothing of the library.
 */
public final class ServiceLimits {

    /** Limits off: every permit at once. */
    public static final ServiceLimits DISABLED = new ServiceLimits(
            new LimitSettings(false, LimitAlgorithm.AIMD, 1, 1, 1, 1));

    private final LimitSettings settings;
    private final Map<String, ServiceLimit> byService;
    private final List<LimitReport.Service> evicted = new ArrayList<>(); // guarded by byService

    private final Function<String, ServiceLimit> factory;

    public ServiceLimits(LimitSettings settings) {
        this(settings, service -> new ServiceLimit(service, settings));
    }

    /** Limits built by {@code factory} (tests give services limits of their own). */
    ServiceLimits(LimitSettings settings, Function<String, ServiceLimit> factory) {
        this.factory = Objects.requireNonNull(factory, "factory");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.byService = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, ServiceLimit> eldest) {
                if (size() <= settings.maxServices()) {
                    return false;
                }
                LimitReport.Service last = eldest.getValue().report();
                if (last != null) {
                    evicted.add(last); // its figures still belong to this period's report
                }
                return true;
            }
        };
    }

    public LimitSettings settings() {
        return settings;
    }

    public boolean enabled() {
        return settings.enabled();
    }

    /** The key of an http request's service: scheme, host and port (the scheme's default if none). */
    public static String serviceOf(URI uri) {
        String scheme = uri.getScheme() == null ? "http" : uri.getScheme().toLowerCase(Locale.ROOT);
        int port = uri.getPort() >= 0 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
        String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
        return scheme + "://" + host + ":" + port;
    }

    /** The service's limit, built at its first use; null when limits are off. */
    public ServiceLimit of(String service) {
        Objects.requireNonNull(service, "service");
        if (!settings.enabled()) {
            return null;
        }
        synchronized (byService) {
            return byService.computeIfAbsent(service, factory);
        }
    }

    /**
     * A permit of {@code service}, as {@link ServiceLimit#acquire}; {@link Permit#NONE} at once when limits are
     * off.
     */
    public Permit acquire(String service, Slot slot, Deadline deadline, boolean unstarted)
            throws NotAdmittedException, NoPermitException, InterruptedException {
        ServiceLimit limit = of(service);
        return limit == null ? Permit.NONE : limit.acquire(slot, deadline, unstarted);
    }

    /** Services tracked now. */
    public int tracked() {
        synchronized (byService) {
            return byService.size();
        }
    }

    /** What the limits did since the last report (the services used, in the order last used); a new period begins. */
    public LimitReport report() {
        List<ServiceLimit> limits;
        List<LimitReport.Service> lines;
        synchronized (byService) {
            if (byService.isEmpty() && evicted.isEmpty()) {
                return LimitReport.EMPTY;
            }
            limits = new ArrayList<>(byService.values());
            lines = new ArrayList<>(evicted);
            evicted.clear();
        }
        for (ServiceLimit limit : limits) {
            LimitReport.Service line = limit.report();
            if (line != null) {
                lines.add(line);
            }
        }
        return lines.isEmpty() ? LimitReport.EMPTY : new LimitReport(lines);
    }

    /** Forgets every service: each starts again from the initial limit. */
    public void reset() {
        synchronized (byService) {
            byService.clear();
            evicted.clear();
        }
    }
}
