package dev.fanout.work;

import java.time.Duration;
import java.util.Optional;

import dev.fanout.engine.Cancellation;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.ItemContext;
import dev.fanout.engine.NotAdmittedException;
import dev.fanout.work.limits.NoPermitException;
import dev.fanout.work.limits.Permit;
import dev.fanout.work.limits.ServiceLimits;

/**
 * What a function may ask about the item it runs for: declare a parameter
 * {@code @io.quarkus.funqy.Context WorkContext item} beside its input. It gives the item's id and group, its
 * deadline and time left (pass {@link #remaining()} to the timeouts of your own I/O) and its cancellation,
 * which fires at that deadline (the engine interrupts the item's thread too). A function that does not ask
 * for it does not pay for it: it is built only for functions that declare it.
 * <p>
 * A function that calls a service of its own (a database, a partner's API) can hold its requests to what the
 * service takes: {@link #permit} waits for a permit of the service's adaptive limit, the one the built-in
 * {@code http} type uses per host (docs/adaptive-limits.md).
 */
public final class WorkContext {

    private final WorkItem item;
    private final ItemContext<?> engineContext;
    private final ServiceLimits limits;
    private boolean permitted; // on the item's own thread only

    WorkContext(WorkItem item, ItemContext<?> engineContext, ServiceLimits limits) {
        this.item = item;
        this.engineContext = engineContext;
        this.limits = limits;
    }

    /**
     * A permit for one request to {@code service}, under that service's adaptive limit: at once if the service's
     * requests in flight are below its limit, else after a wait that gives the item's place in the engine's bound
     * to other items and ends no later than the item's deadline. Report how the request went on the permit
     * ({@link Permit#success()}, {@link Permit#dropped()} when the service said it is overloaded or could not be
     * reached, {@link Permit#timedOut()} when it did not answer in time, {@link Permit#ignore()}), or close it; use
     * it from the item's own thread, one at a time.
     * <p>
     * Ask before anything your function cannot do twice: an item whose first permit does not come is not started
     * ({@link NotAdmittedException}; its record comes back), whatever it did before it asked.
     *
     * @param service a name of your choosing, the same for every item that calls that service (not per item: each
     *                name is a limit of its own, and the least recently used are forgotten)
     * @throws NotAdmittedException if the item's first permit did not come before its deadline: let it propagate
     * @throws NoPermitException    if a later permit did not: a retryable failure
     * @throws InterruptedException if the item was cancelled while it waited
     */
    public Permit permit(String service) throws NotAdmittedException, NoPermitException, InterruptedException {
        if (service == null || service.isBlank()) {
            throw new IllegalArgumentException("a service's name must not be blank");
        }
        boolean first = !permitted;
        Permit permit = limits.acquire(service, engineContext.slot(), engineContext.deadline(), first);
        permitted = true;
        return permit;
    }

    /** The item's id: its own, or the SQS message id when its body names none. */
    public String id() {
        return item.id();
    }

    /** The function's name the item named. */
    public String type() {
        return item.type();
    }

    /** The FIFO group the item runs in, if any. */
    public Optional<String> group() {
        return item.group();
    }

    /** The item's deadline: the batch's cut-off, or its own timeout if that comes first. */
    public Deadline deadline() {
        return engineContext.deadline();
    }

    public Duration remaining() {
        return engineContext.remaining();
    }

    public Cancellation cancellation() {
        return engineContext.cancellation();
    }
}
