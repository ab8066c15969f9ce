package dev.fanout.work.http;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import dev.fanout.engine.NonRetryableException;

/**
 * The redirects an item follows. The client follows none by itself; the handler follows 301, 302, 303, 307
 * and 308 responses that have a {@code Location}, at most {@link HttpSettings#maxRedirects()} hops, then
 * fails permanently ({@code 0} returns the 3xx as the result); the hops count for the whole item. A 303,
 * and a 301 or 302 after a POST, becomes a GET without body (a HEAD stays a HEAD); 307 and 308 keep the
 * method and the body. {@code Authorization}, {@code Proxy-Authorization} and {@code Cookie} are dropped
 * when the origin (scheme, host or port) changes. Every hop is checked again: http or https only
 * ({@link RequestChecks#targetProblem}), and its host through the SSRF guard when it is sent.
 */
final class Redirects {

    /** Dropped when a redirect leaves the origin. */
    private static final Set<String> CREDENTIAL_HEADERS = Set.of("authorization", "proxy-authorization", "cookie");

    private final int maxRedirects;
    private int followed;

    /** The redirects of one item: not shared. */
    Redirects(int maxRedirects) {
        this.maxRedirects = maxRedirects;
    }

    /** Whether {@code response} is a redirect this item follows (rather than its result). */
    boolean follows(Response response) {
        int status = response.status();
        boolean redirect = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
        return redirect && response.location() != null && maxRedirects > 0;
    }

    /**
     * The hop that follows the redirect {@code response} to {@code hop}.
     *
     * @throws NonRetryableException after {@code maxRedirects} hops, or for a Location that is no URL or
     *                               no http(s) URL with a host
     */
    OutboundRequest next(OutboundRequest hop, Response response) {
        int status = response.status();
        if (followed == maxRedirects) {
            throw new NonRetryableException(
                    MessageText.statusLine(status, hop.uri()) + ": more than " + followed + " redirects");
        }
        URI target = target(hop, status, response.location());
        followed++;
        String method = hop.method();
        boolean toGet = status == 303 && !method.equals("HEAD") || (status == 301 || status == 302) && method.equals("POST");
        Map<String, String> headers = new LinkedHashMap<>(hop.headers());
        if (toGet) {
            headers.keySet().removeIf(name -> name.equalsIgnoreCase("content-type"));
        }
        if (!sameOrigin(hop.uri(), target)) {
            headers.keySet().removeIf(name -> CREDENTIAL_HEADERS.contains(name.toLowerCase(Locale.ROOT)));
        }
        return new OutboundRequest(toGet ? "GET" : method, target, headers, toGet ? null : hop.body(), hop.uri());
    }

    private static URI target(OutboundRequest hop, int status, String location) {
        URI target;
        try {
            URI base = hop.uri();
            if (base.getRawPath() == null || base.getRawPath().isEmpty()) {
                base = base.resolve("/"); // URI.resolve mishandles a base with an empty path
            }
            target = base.resolve(new URI(location));
        } catch (URISyntaxException e) {
            throw new NonRetryableException(MessageText.statusLine(status, hop.uri()) + ": invalid Location header: "
                    + e.getReason() + " at index " + e.getIndex());
        }
        String problem = RequestChecks.targetProblem(target);
        if (problem != null) {
            throw new NonRetryableException(
                    MessageText.statusLine(status, hop.uri()) + ": the redirect target " + problem);
        }
        return target;
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI uri) {
        return uri.getPort() >= 0 ? uri.getPort() : uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }
}
