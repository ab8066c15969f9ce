package dev.fanout.work.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
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
 * the connection). {@link HttpHandler} does so through its connection manager's resolver.
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

    private static final Pattern HOST_NAME = Pattern.compile("[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*");

    private final boolean enabled;
    private final Set<String> allowedHosts;
    private final List<Range> allowedRanges;
    private final Resolver resolver;

    public SsrfGuard(boolean enabled, Collection<String> allow, Resolver resolver) {
        this.enabled = enabled;
        this.resolver = Objects.requireNonNull(resolver, "resolver");
        Set<String> hosts = new HashSet<>();
        List<Range> ranges = new ArrayList<>();
        for (AllowEntry entry : parseAllowList(allow)) {
            switch (entry) {
                case Range range -> ranges.add(range);
                case HostName(String name) -> hosts.add(name);
            }
        }
        this.allowedHosts = Set.copyOf(hosts);
        this.allowedRanges = List.copyOf(ranges);
    }

    public static SsrfGuard of(HttpSettings settings, Resolver resolver) {
        return new SsrfGuard(settings.ssrfGuard(), settings.allow(), resolver);
    }

    /**
     * Resolves {@code host} (an IP literal is parsed, not looked up) and vets each address.
     *
     * @return the addresses to connect to, and the only ones the connection may use
     * @throws NonRetryableException if the guard refuses an address, naming it and its class
     * @throws UnknownHostException  if the host does not resolve
     */
    public List<InetAddress> vet(String host) throws UnknownHostException {
        String name = normalize(host);
        String ambiguous = ambiguousNumericHost(name);
        if (ambiguous != null) {
            throw new NonRetryableException("refused: " + ambiguous);
        }
        InetAddress literal = literal(name);
        InetAddress[] addresses = literal != null ? new InetAddress[] {literal} : resolver.resolve(name);
        if (addresses == null || addresses.length == 0) {
            throw new UnknownHostException(name + " has no addresses");
        }
        if (enabled && !allowedHosts.contains(name)) {
            for (InetAddress address : addresses) {
                String kind = classify(address);
                if (kind != null && !isAllowed(address)) {
                    throw new NonRetryableException("refused by the SSRF guard: " + format(address) + " is " + kind);
                }
            }
        }
        return List.of(addresses);
    }

    private boolean isAllowed(InetAddress address) {
        byte[] bytes = canonical(address.getAddress());
        for (Range range : allowedRanges) {
            if (range.contains(bytes)) {
                return true;
            }
        }
        return false;
    }

    /** Lower case, without IPv6 brackets or a trailing dot: the form the guard and the pin compare. */
    static String normalize(String host) {
        String name = host.toLowerCase(Locale.ROOT);
        if (name.startsWith("[") && name.endsWith("]")) {
            name = name.substring(1, name.length() - 1);
        }
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        return name;
    }

    /**
     * Why {@code host} is an ambiguous spelling of an IPv4 address, or null if it is not one. Browsers,
     * curl and the WHATWG URL standard read a host whose last label is a number as IPv4, in octal
     * ({@code 0177.0.0.1}), hex ({@code 0x7f.1}), short ({@code 127.1}) or as one integer
     * ({@code 2130706433}), all of them 127.0.0.1; Java reads some as decimal and others as names. Rather
     * than guess, only the plain form, four decimal numbers 0 to 255 without leading zeros, is accepted.
     */
    public static String ambiguousNumericHost(String host) {
        String name = normalize(host);
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
        return plain ? null : "the host '" + HttpHandler.printable(abbreviate(name)) + "' is an ambiguous IPv4 spelling"
                + " (octal, hex, short or a single number): write the address as four decimal numbers a.b.c.d";
    }

    /**
     * {@link #ambiguousNumericHost} of a URL's authority ({@code user@host:port}); {@link java.net.URI} finds
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

    private static String abbreviate(String text) {
        return text.length() <= 100 ? text : text.substring(0, 100) + "...";
    }

    /** The address {@code name} spells, or null if it is a host name. */
    private static InetAddress literal(String name) {
        try {
            return InetAddress.ofLiteral(name);
        } catch (IllegalArgumentException notALiteral) {
            return null;
        }
    }

    /**
     * Why {@code address} is not public ({@code "loopback"}, {@code "link-local"}, ...), or null if it is.
     */
    static String classify(InetAddress address) {
        return classify(address.getAddress());
    }

    private static String classify(byte[] b) {
        if (isMapped(b)) {
            return embedded(b, 12, "IPv4-mapped");
        }
        for (Special special : b.length == 4 ? SPECIAL_V4 : SPECIAL_V6) {
            if (special.range().contains(b)) {
                return special.exceptions().stream().anyMatch(e -> e.contains(b)) ? null : special.kind(b);
            }
        }
        return null;
    }

    /**
     * A range of IANA's special-purpose address registries (IPv4: RFC 6890 and updates; IPv6: the same) that
     * is not globally reachable, or one that embeds an IPv4 address a translator or tunnel would reach, with
     * the addresses inside it the registry marks globally reachable. Multicast and the documentation and
     * benchmarking ranges are refused too: none is a web service an item may call.
     */
    private record Special(Range range, String kind, int embeddedAt, List<Range> exceptions) {

        static Special of(String cidr, String kind, String... exceptions) {
            return new Special(cidr(cidr), kind, -1, Arrays.stream(exceptions).map(SsrfGuard::cidr).toList());
        }

        /** An IPv6 range that embeds an IPv4 address at {@code offset}: refused whatever that address is. */
        static Special embedding(String cidr, String kind, int offset) {
            return new Special(cidr(cidr), kind, offset, List.of());
        }

        String kind(byte[] b) {
            return embeddedAt < 0 ? kind : kind + " (embeds " + dotted(Arrays.copyOfRange(b, embeddedAt, embeddedAt + 4)) + ")";
        }
    }

    private static Range cidr(String text) {
        return Range.parse(text, text.indexOf('/'));
    }

    /** Most specific first: the first range that contains an address names its kind. */
    private static final List<Special> SPECIAL_V4 = List.of(
            Special.of("0.0.0.0/32", "unspecified"),
            Special.of("0.0.0.0/8", "in 0.0.0.0/8 (this network)"),
            Special.of("10.0.0.0/8", "private"),
            Special.of("100.64.0.0/10", "carrier-grade NAT"),
            Special.of("127.0.0.0/8", "loopback"),
            Special.of("169.254.0.0/16", "link-local"),
            Special.of("172.16.0.0/12", "private"),
            Special.of("192.0.0.0/24", "in 192.0.0.0/24 (IETF protocol assignments)"),
            Special.of("192.0.2.0/24", "documentation (TEST-NET-1)"),
            Special.of("192.88.99.0/24", "6to4 relay anycast (deprecated)"),
            Special.of("192.168.0.0/16", "private"),
            Special.of("198.18.0.0/15", "benchmarking"),
            Special.of("198.51.100.0/24", "documentation (TEST-NET-2)"),
            Special.of("203.0.113.0/24", "documentation (TEST-NET-3)"),
            Special.of("224.0.0.0/4", "multicast"),
            Special.of("255.255.255.255/32", "broadcast"),
            Special.of("240.0.0.0/4", "reserved"));

    private static final List<Special> SPECIAL_V6 = List.of(
            Special.of("::/128", "unspecified"),
            Special.of("::1/128", "loopback"),
            Special.of("::/96", "IPv4-compatible (deprecated)"),
            Special.embedding("::ffff:0:0:0/96", "IPv4-translated", 12),
            Special.embedding("64:ff9b::/96", "NAT64", 12),
            Special.of("64:ff9b:1::/48", "local-use NAT64"),
            Special.of("100::/64", "discard-only"),
            Special.of("100:0:0:1::/64", "dummy prefix"),
            Special.of("2001::/32", "Teredo"),
            Special.of("2001:2::/48", "benchmarking"),
            Special.of("2001:db8::/32", "documentation"),
            Special.of("2001::/23", "in 2001::/23 (IETF protocol assignments)",
                    "2001:1::1/128", "2001:1::2/128", "2001:1::3/128", "2001:3::/32", "2001:4:112::/48",
                    "2001:20::/28", "2001:30::/28"),
            Special.embedding("2002::/16", "6to4", 2),
            Special.of("3fff::/20", "documentation"),
            Special.of("5f00::/16", "segment routing (SRv6) SIDs"),
            Special.of("fc00::/7", "unique local"),
            Special.of("fe80::/10", "link-local"),
            Special.of("fec0::/10", "site-local"),
            Special.of("ff00::/8", "multicast"));

    /** The class of the IPv4 address at {@code offset}, saying how it is embedded; null if public. */
    private static String embedded(byte[] b, int offset, String how) {
        byte[] v4 = Arrays.copyOfRange(b, offset, offset + 4);
        String kind = classify(v4);
        return kind == null ? null : kind + " (" + how + " " + dotted(v4) + ")";
    }

    private static boolean isMapped(byte[] b) {
        return b.length == 16 && isZero(b, 0, 10) && b[10] == -1 && b[11] == -1;
    }

    /** IPv4-mapped IPv6 as its IPv4 address, so that IPv4 ranges of the allow-list match it. */
    private static byte[] canonical(byte[] b) {
        return isMapped(b) ? Arrays.copyOfRange(b, 12, 16) : b;
    }

    private static boolean isZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** The address in its usual short form: dotted IPv4, RFC 5952 IPv6 ({@code ::ffff:1.2.3.4} when mapped). */
    static String format(InetAddress address) {
        byte[] b = address.getAddress();
        if (b.length == 4) {
            return dotted(b);
        }
        if (isMapped(b)) {
            return "::ffff:" + dotted(Arrays.copyOfRange(b, 12, 16));
        }
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = (b[2 * i] & 0xff) << 8 | b[2 * i + 1] & 0xff;
        }
        // the longest run of two or more zero groups (the first of equals) becomes "::"
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8;) {
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (!text.isEmpty() && text.charAt(text.length() - 1) != ':') {
                text.append(':');
            }
            text.append(Integer.toHexString(groups[i]));
        }
        return text.toString();
    }

    private static String dotted(byte[] b) {
        return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff);
    }

    /** One allow-list entry: a host name or an address range. */
    sealed interface AllowEntry permits HostName, Range {
    }

    /** A host name, normalized, allowed whatever it resolves to. */
    record HostName(String name) implements AllowEntry {
    }

    /**
     * Reads allow-list entries.
     *
     * @throws IllegalArgumentException naming the first entry that is neither a host name, an address
     *                                  nor a CIDR range
     */
    static List<AllowEntry> parseAllowList(Collection<String> entries) {
        List<AllowEntry> parsed = new ArrayList<>();
        for (String entry : entries) {
            if (entry == null || entry.isBlank()) {
                throw new IllegalArgumentException("allow entry must not be blank");
            }
            String text = entry.strip();
            int slash = text.indexOf('/');
            if (slash >= 0) {
                parsed.add(Range.parse(text, slash));
                continue;
            }
            String name = normalize(text);
            InetAddress address = literal(name);
            if (address != null) {
                byte[] bytes = canonical(address.getAddress());
                parsed.add(new Range(bytes, bytes.length * 8));
            } else if (HOST_NAME.matcher(name).matches()) {
                parsed.add(new HostName(name));
            } else {
                throw new IllegalArgumentException(
                        "allow entry '" + entry + "' is neither a host name, an IP address nor a CIDR range");
            }
        }
        return parsed;
    }

    /** An address range: the first {@code prefix} bits of {@code network}. */
    record Range(byte[] network, int prefix) implements AllowEntry {

        static Range parse(String text, int slash) {
            InetAddress address = literal(normalize(text.substring(0, slash)));
            if (address == null) {
                throw new IllegalArgumentException("allow entry '" + text + "' has no IP address before the '/'");
            }
            byte[] bytes = address.getAddress();
            int prefix;
            try {
                prefix = Integer.parseInt(text.substring(slash + 1));
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > bytes.length * 8) {
                throw new IllegalArgumentException("allow entry '" + text + "' must have a prefix length between 0 and "
                        + bytes.length * 8);
            }
            if (isMapped(bytes) && prefix >= 96) {
                return new Range(canonical(bytes), prefix - 96);
            }
            return new Range(bytes, prefix);
        }

        boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (address[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = 0xff << (8 - rest) & 0xff;
            return (address[full] & mask) == (network[full] & mask);
        }
    }
}
