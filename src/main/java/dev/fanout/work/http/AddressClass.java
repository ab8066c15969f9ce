package dev.fanout.work.http;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;

/**
 * Why an address is not public: the ranges of IANA's special-purpose address registries (IPv4: RFC 6890 and
 * updates; IPv6: the same) that are not globally reachable, and the IPv6 ranges that embed an IPv4 address a
 * translator or tunnel would reach. Multicast and the documentation and benchmarking ranges are refused too:
 * none is a web service an item may call.
 */
final class AddressClass {

    private AddressClass() {
    }

    /**
     * Why {@code address} is not public ({@code "loopback"}, {@code "link-local"}, ...), or null if it is.
     */
    static String classify(InetAddress address) {
        return classify(address.getAddress());
    }

    private static String classify(byte[] b) {
        if (Cidr.isMapped(b)) {
            return embedded(b, 12, "IPv4-mapped");
        }
        for (Special special : b.length == 4 ? SPECIAL_V4 : SPECIAL_V6) {
            if (special.range().contains(b)) {
                return special.exceptions().stream().anyMatch(e -> e.contains(b)) ? null : special.kind(b);
            }
        }
        return null;
    }

    /** One registry range, its kind, and the addresses inside it the registry marks globally reachable. */
    private record Special(Cidr range, String kind, int embeddedAt, List<Cidr> exceptions) {

        Special(String cidr, String kind, String... exceptions) {
            this(Cidr.of(cidr), kind, -1, Arrays.stream(exceptions).map(Cidr::of).toList());
        }

        /** An IPv6 range that embeds an IPv4 address at {@code offset}: refused whatever that address is. */
        Special(String cidr, String kind, int offset) {
            this(Cidr.of(cidr), kind, offset, List.of());
        }

        String kind(byte[] b) {
            return embeddedAt < 0 ? kind
                    : kind + " (embeds " + MessageText.dotted(Arrays.copyOfRange(b, embeddedAt, embeddedAt + 4)) + ")";
        }
    }

    /** Most specific first: the first range that contains an address names its kind. */
    private static final List<Special> SPECIAL_V4 = List.of(
            new Special("0.0.0.0/32", "unspecified"),
            new Special("0.0.0.0/8", "in 0.0.0.0/8 (this network)"),
            new Special("10.0.0.0/8", "private"),
            new Special("100.64.0.0/10", "carrier-grade NAT"),
            new Special("127.0.0.0/8", "loopback"),
            new Special("169.254.0.0/16", "link-local"),
            new Special("172.16.0.0/12", "private"),
            new Special("192.0.0.0/24", "in 192.0.0.0/24 (IETF protocol assignments)"),
            new Special("192.0.2.0/24", "documentation (TEST-NET-1)"),
            new Special("192.88.99.0/24", "6to4 relay anycast (deprecated)"),
            new Special("192.168.0.0/16", "private"),
            new Special("198.18.0.0/15", "benchmarking"),
            new Special("198.51.100.0/24", "documentation (TEST-NET-2)"),
            new Special("203.0.113.0/24", "documentation (TEST-NET-3)"),
            new Special("224.0.0.0/4", "multicast"),
            new Special("255.255.255.255/32", "broadcast"),
            new Special("240.0.0.0/4", "reserved"));

    private static final List<Special> SPECIAL_V6 = List.of(
            new Special("::/128", "unspecified"),
            new Special("::1/128", "loopback"),
            new Special("::/96", "IPv4-compatible (deprecated)"),
            new Special("::ffff:0:0:0/96", "IPv4-translated", 12),
            new Special("64:ff9b::/96", "NAT64", 12),
            new Special("64:ff9b:1::/48", "local-use NAT64"),
            new Special("100::/64", "discard-only"),
            new Special("100:0:0:1::/64", "dummy prefix"),
            new Special("2001::/32", "Teredo"),
            new Special("2001:2::/48", "benchmarking"),
            new Special("2001:db8::/32", "documentation"),
            new Special("2001::/23", "in 2001::/23 (IETF protocol assignments)",
                    "2001:1::1/128", "2001:1::2/128", "2001:1::3/128", "2001:3::/32", "2001:4:112::/48",
                    "2001:20::/28", "2001:30::/28"),
            new Special("2002::/16", "6to4", 2),
            new Special("3fff::/20", "documentation"),
            new Special("5f00::/16", "segment routing (SRv6) SIDs"),
            new Special("fc00::/7", "unique local"),
            new Special("fe80::/10", "link-local"),
            new Special("fec0::/10", "site-local"),
            new Special("ff00::/8", "multicast"));

    /** The class of the IPv4 address at {@code offset}, saying how it is embedded; null if public. */
    private static String embedded(byte[] b, int offset, String how) {
        byte[] v4 = Arrays.copyOfRange(b, offset, offset + 4);
        String kind = classify(v4);
        return kind == null ? null : kind + " (" + how + " " + MessageText.dotted(v4) + ")";
    }
}
