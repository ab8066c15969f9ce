package dev.fanout.work.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

import dev.fanout.engine.NonRetryableException;

/**
 * Keeps items from reaching the function's own network: the instance metadata service (169.254.169.254),
 * loopback, private ranges, and the like (server-side request forgery).
 * <p>
 * {@link #vet} resolves a host <em>once</em> and refuses it if <em>any</em> of its addresses is not
 * public: loopback, link-local, private (10/8, 172.16/12, 192.168/16), unique local (fc00::/7),
 * site-local (fec0::/10), carrier-grade NAT (100.64/10), multicast, unspecified, broadcast, 0/8 and
 * 240/4, IPv4-compatible IPv6, and such IPv4 addresses inside IPv6: IPv4-mapped (::ffff:0:0/96), NAT64
 * (64:ff9b::/96; the local-use 64:ff9b:1::/48 is refused as a whole) and 6to4 (2002::/16). The caller
 * must then connect to exactly the addresses returned, never resolve the name again: that is what
 * defeats DNS rebinding (a name that answers with a public address for the check and a private one for
 * the connection). The {@code http} handler's transport does so through its connection manager's resolver.
 * <p>
 * The allow-list opens chosen host names (exact, case-insensitive) and address ranges. With the guard
 * off, {@link #vet} still resolves once, so the connection is pinned all the same.
 */
public final class SsrfGuard {

    /** Resolves a host name to its addresses; injectable so that tests need no real DNS. */
    @FunctionalInterface
    public interface Resolver {

        /** The JDK's resolver, {@link InetAddress#getAllByName}. */
        Resolver SYSTEM = InetAddress::getAllByName;

        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    private final boolean enabled;
    private final AllowList allow;
    private final Resolver resolver;

    public SsrfGuard(boolean enabled, Collection<String> allow, Resolver resolver) {
        this.enabled = enabled;
        this.allow = AllowList.parse(allow);
        this.resolver = Objects.requireNonNull(resolver, "resolver");
    }

    /**
     * Resolves {@code host} (an IP literal is parsed, not looked up) and vets each address.
     *
     * @return the addresses to connect to, and the only ones the connection may use
     * @throws NonRetryableException if the guard refuses an address, naming it and its class
     * @throws UnknownHostException  if the host does not resolve
     */
    public List<InetAddress> vet(String host) throws UnknownHostException {
        String name = HostName.normalize(host);
        String ambiguous = ambiguousNumericHost(name);
        if (ambiguous != null) {
            throw new NonRetryableException("refused: " + ambiguous);
        }
        InetAddress literal = Cidr.literal(name);
        InetAddress[] addresses = literal != null ? new InetAddress[] {literal} : resolver.resolve(name);
        if (addresses == null || addresses.length == 0) {
            throw new UnknownHostException(name + " has no addresses");
        }
        if (enabled && !allow.hosts().contains(name)) {
            for (InetAddress address : addresses) {
                String kind = AddressClass.classify(address);
                if (kind != null && !allow.contains(address)) {
                    throw new NonRetryableException("refused by the SSRF guard: " + MessageText.address(address) + " is " + kind);
                }
            }
        }
        return List.of(addresses);
    }

    /**
     * Why {@code host} is an ambiguous spelling of an IPv4 address, or null if it is not one. Browsers,
     * curl and the WHATWG URL standard read a host whose last label is a number as IPv4, in octal
     * ({@code 0177.0.0.1}), hex ({@code 0x7f.1}), short ({@code 127.1}) or as one integer
     * ({@code 2130706433}), all of them 127.0.0.1; Java reads some as decimal and others as names. Rather
     * than guess, only the plain form, four decimal numbers 0 to 255 without leading zeros, is accepted.
     */
    public static String ambiguousNumericHost(String host) {
        String name = HostName.normalize(host);
        if (name.contains(":")) {
            return null; // IPv6: one spelling per address, as InetAddress reads it
        }
        String[] labels = name.split("\\.", -1);
        if (!NUMERIC_LABEL.matcher(labels[labels.length - 1]).matches()) {
            return null;
        }
        boolean plain = labels.length == 4;
        for (int i = 0; plain && i < 4; i++) {
            plain = PLAIN_OCTET.matcher(labels[i]).matches();
        }
        return plain ? null : "the host '" + MessageText.printable(MessageText.abbreviate(name))
                + "' is an ambiguous IPv4 spelling (octal, hex, short or a single number):"
                + " write the address as four decimal numbers a.b.c.d";
    }

    /**
     * {@link #ambiguousNumericHost} of a URL's authority ({@code user@host:port}); {@code URI} finds
     * no host at all in most ambiguous spellings, so the check reads the authority itself.
     */
    public static String ambiguousNumericAuthority(String authority) {
        if (authority == null) {
            return null;
        }
        String host = authority.substring(authority.lastIndexOf('@') + 1);
        if (host.startsWith("[")) {
            return null;
        }
        int colon = host.indexOf(':');
        return ambiguousNumericHost(colon >= 0 ? host.substring(0, colon) : host);
    }

    private static final Pattern NUMERIC_LABEL = Pattern.compile("0x[0-9a-f]*|[0-9]+");
    private static final Pattern PLAIN_OCTET = Pattern.compile("0|[1-9][0-9]?|1[0-9]{2}|2[0-4][0-9]|25[0-5]");
}
