package dev.fanout.work.http;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;

import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.RejectedItemException;
import dev.fanout.work.WorkContext;
import dev.fanout.work.limits.Permit;
import dev.fanout.work.limits.ServiceLimits;
import io.quarkus.funqy.Context;
import io.quarkus.funqy.Funq;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

/**
 * The built-in {@code http} type: one HTTP request per item.
 *
 * <pre>
 * {"type": "http", "payload": {"method": "POST", "url": "https://api.example/orders",
 *   "headers": {"content-type": "application/json"}, "body": "{\"sku\": 7}", "timeoutMillis": 3000}}
 *   ->  {"status": 201, "headers": {"content-type": "application/json", "location": "/orders/9"},
 *        "body": "{\"id\": 9}", "truncated": false}
 * </pre>
 *
 * An item's request is checked when its payload is read ({@link RequestChecks}; a malformed one is
 * {@link RejectedItemException rejected}), then sent hop by hop through the {@link GuardedTransport}
 * (SSRF guard, pinned DNS, time limits, bounded reads), following {@link Redirects}, retrying as the
 * {@link RetryPolicy} says; the final response becomes the {@link Output} ({@link BodyText}). Each attempt
 * gets the lesser of {@code timeoutMillis} (or {@link HttpSettings#defaultTimeout()}) and the time left
 * before the item's deadline, and the item's cancellation cancels the request in flight. Each attempt first
 * takes a permit of its service's adaptive limit ({@link WorkContext#permit}, docs/adaptive-limits.md), and
 * tells it how the service answered. Messages name URLs
 * without their query, which may carry credentials ({@link MessageText}).
 */
@Singleton
public class HttpCallFunction implements AutoCloseable {

    public static final String TYPE = "http";

    private final HttpSettings settings;
    private final GuardedTransport transport;
    private final ServiceHolds holds;

    @Inject
    public HttpCallFunction(HttpSettings settings) {
        this(settings, SsrfGuard.Resolver.SYSTEM);
    }

    /** @param resolver resolves host names for the SSRF guard (tests inject one instead of DNS) */
    public HttpCallFunction(HttpSettings settings, SsrfGuard.Resolver resolver) {
        this(settings, resolver, ServiceHolds.withHoldAfterFailures(settings.holdAfterFailures()));
    }

    /** @param holds the services that asked to wait ({@link ServiceHolds}) */
    public HttpCallFunction(HttpSettings settings, SsrfGuard.Resolver resolver, ServiceHolds holds) {
        this.holds = Objects.requireNonNull(holds, "holds");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.transport = new GuardedTransport(settings,
                new SsrfGuard(settings.ssrfGuard(), settings.allow(), resolver));
    }

    /**
     * @param method        GET (the default), HEAD, POST, PUT, PATCH, DELETE or OPTIONS
     * @param url           an absolute http or https URL
     * @param headers       request headers
     * @param body          request body, encoded in the charset of the {@code content-type} header (UTF-8
     *                      if none); sent as {@code text/plain; charset=UTF-8} without that header
     * @param timeoutMillis time limit of one attempt, capped by the time left before the item's deadline
     */
    public record Input(String method, String url, Map<String, String> headers, String body, Long timeoutMillis) {
        public Input {
            method = RequestChecks.method(method);
            RequestChecks.url(url);
            headers = RequestChecks.headers(headers);
            RequestChecks.timeoutMillis(timeoutMillis);
        }

        URI uri() {
            return URI.create(url);
        }
    }

    /**
     * @param status     the final response's status
     * @param headers    the response headers named in {@link HttpSettings#responseHeaders()}, by lower-case
     *                   name; repeated ones joined with ", "
     * @param body       the body as text, if it is text
     * @param bodyBase64 else the body in base64
     * @param truncated  whether the body was longer than {@link HttpSettings#maxBodyBytes()} and cut there
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Output(int status, Map<String, String> headers, String body, String bodyBase64, boolean truncated) {
    }

    @Funq(TYPE)
    public Output http(Input input, @Context WorkContext context) throws Exception {
        Duration timeout = input.timeoutMillis() == null
                ? settings.defaultTimeout()
                : Duration.ofMillis(input.timeoutMillis());
        var inFlight = new GuardedTransport.InFlight();
        context.cancellation().onCancel(inFlight::cancel);
        var redirects = new Redirects(settings.maxRedirects());
        var retries = new RetryPolicy(settings.maxAttempts());
        OutboundRequest hop = new OutboundRequest(input.method(), input.uri(), input.headers(), input.body(), null);
        int attempt = 1;
        while (true) {
            context.cancellation().throwIfCancelled();
            HttpCallException failure;
            try {
                // a held service is not called (issue 22); a called one takes its per-service permit (issue 23)
                Response response = holds.send(hop, context.remaining(),
                        (h, notHeld) -> exchange(h, timeout, context, inFlight, notHeld));
                if (redirects.follows(response)) {
                    hop = redirects.next(hop, response);
                    continue;
                }
                if (response.status() < 400) {
                    return output(response);
                }
                failure = RetryPolicy.failure(response, hop);
            } catch (HttpCallException e) {
                failure = e;
            } catch (IOException e) {
                context.cancellation().throwIfCancelled();
                failure = new HttpCallException(0, null, GuardedTransport.describe(hop, e), e);
            }
            Thread.sleep(retries.waitAfter(failure, attempt, context.remaining()));
            attempt++;
        }
    }

    /**
     * One attempt at one hop under a permit of the hop's service (scheme, host, port; {@link ServiceLimits}), and
     * what the attempt says of the service: a 429 or 503, a refused or reset connection and a timeout are drops (a
     * timeout told apart: a round trip of nothing but timeouts brings the limit to its minimum),
     * any other answer a success, and an attempt that never reached the service (cancelled, refused by the
     * guard, no time left, a host name that did not resolve in time) says nothing.
     */
    private Response exchange(OutboundRequest hop, Duration timeout, WorkContext context, GuardedTransport.InFlight inFlight,
            ServiceHolds.Recheck notHeld) throws Exception {
        try (Permit permit = context.permit(ServiceLimits.serviceOf(hop.uri()))) {
            notHeld.notHeld(); // held while this item waited for its permit: not sent (the permit is closed unused)
            Response response;
            try {
                response = transport.send(hop, timeout, context.remaining(), inFlight);
            } catch (IOException e) {
                boolean reachedTheService = !(e instanceof HttpCallException && e.getCause() == null);
                if (reachedTheService && !context.cancellation().isCancelled()) {
                    if (e instanceof HttpCallException call && call.timedOut()) {
                        permit.timedOut();
                    } else {
                        permit.dropped();
                    }
                }
                throw e;
            }
            if (response.status() == 429 || response.status() == 503) {
                permit.dropped();
            } else {
                permit.success();
            }
            return response;
        }
    }

    /** The output of a final response: its body as text if it is text ({@link BodyText}), else in base64. */
    private static Output output(Response response) {
        String text = BodyText.text(response.body(), response.truncated(), response.contentType());
        return text != null
                ? new Output(response.status(), response.headers(), text, null, response.truncated())
                : new Output(response.status(), response.headers(), null,
                        Base64.getEncoder().encodeToString(response.body()), response.truncated());
    }

    /** Closes the pool's idle connections: after a SnapStart restore they lead to sockets that are gone. */
    public void closeIdleConnections() {
        transport.closeIdleConnections();
    }

    /** Forgets the services' holds: their times, on a monotonic clock, mean nothing after a SnapStart restore. */
    public void forgetHolds() {
        holds.clear();
    }

    /** Connections the pool holds now, leased or idle. */
    public int pooledConnections() {
        return transport.pooledConnections();
    }

    @Override
    @PreDestroy
    public void close() {
        transport.close();
    }
}
