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
        byte[] b = address.getAddress();
        return b.length == 4 ? classifyV4(b) : classifyV6(b);
    }

    private static String classifyV4(byte[] b) {
        int a = b[0] & 0xff;
        int c = b[1] & 0xff;
        if (isZero(b, 0, 4)) {
            return "unspecified";
        }
        if (a == 0) {
            return "in 0.0.0.0/8 (this network)";
        }
        if (a == 127) {
            return "loopback";
        }
        if (a == 10 || a == 172 && (c & 0xf0) == 16 || a == 192 && c == 168) {
            return "private";
        }
        if (a == 169 && c == 254) {
            return "link-local";
        }
        if (a == 100 && (c & 0xc0) == 64) {
            return "carrier-grade NAT";
        }
        if (a >= 224 && a <= 239) {
            return "multicast";
        }
        if (Arrays.equals(b, new byte[] {-1, -1, -1, -1})) {
            return "broadcast";
        }
        if (a >= 240) {
            return "reserved";
        }
        return null;
    }

    private static String classifyV6(byte[] b) {
        int first = b[0] & 0xff;
        int second = b[1] & 0xff;
        if (isMapped(b)) {
            return embedded(b, 12, "IPv4-mapped");
        }
        if (isZero(b, 0, 16)) {
            return "unspecified";
        }
        if (isZero(b, 0, 15) && b[15] == 1) {
            return "loopback";
        }
        if (isZero(b, 0, 12)) {
            return "IPv4-compatible (deprecated)";
        }
        if (first == 0 && second == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b) {
            if (isZero(b, 4, 12)) {
                return embedded(b, 12, "NAT64");
            }
            if (b[4] == 0 && b[5] == 1) {
                return "local-use NAT64";
            }
        }
        if (first == 0x20 && second == 0x02) {
            return embedded(b, 2, "6to4");
        }
        if (first == 0xff) {
            return "multicast";
        }
        if (first == 0xfe && (second & 0xc0) == 0x80) {
            return "link-local";
        }
        if (first == 0xfe && (second & 0xc0) == 0xc0) {
            return "site-local";
        }
        if ((first & 0xfe) == 0xfc) {
            return "unique local";
        }
        return null;
    }

    /** The class of the IPv4 address at {@code offset}, saying how it is embedded; null if public. */
    private static String embedded(byte[] b, int offset, String how) {
        byte[] v4 = Arrays.copyOfRange(b, offset, offset + 4);
        String kind = classifyV4(v4);
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
