package dev.fanout.work.http;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the SSRF guard lets through although it is not public: exact host names (case-insensitive, without
 * a trailing dot), addresses and CIDR ranges.
 *
 * @param hosts  host names, normalized, allowed whatever they resolve to
 * @param ranges address ranges
 */
record AllowList(Set<String> hosts, List<Cidr> ranges) {

    private static final Pattern HOST_NAME = Pattern.compile("[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*");

    AllowList {
        hosts = Set.copyOf(hosts);
        ranges = List.copyOf(ranges);
    }

    /**
     * Reads allow-list entries.
     *
     * @throws IllegalArgumentException naming the first entry that is neither a host name, an address
     *                                  nor a CIDR range
     */
    static AllowList parse(Collection<String> entries) {
        Set<String> hosts = new HashSet<>();
        List<Cidr> ranges = new ArrayList<>();
        for (String entry : entries) {
            if (entry == null || entry.isBlank()) {
                throw new IllegalArgumentException("allow entry must not be blank");
            }
            String text = entry.strip();
            int slash = text.indexOf('/');
            if (slash >= 0) {
                ranges.add(Cidr.parse(text, HostName.normalize(text.substring(0, slash)), text.substring(slash + 1)));
                continue;
            }
            String name = HostName.normalize(text);
            InetAddress address = Cidr.literal(name);
            if (address != null) {
                ranges.add(Cidr.single(address));
            } else if (HOST_NAME.matcher(name).matches()) {
                hosts.add(name);
            } else {
                throw new IllegalArgumentException(
                        "allow entry '" + entry + "' is neither a host name, an IP address nor a CIDR range");
            }
        }
        return new AllowList(hosts, ranges);
    }

    /** Whether {@code address} lies in one of the ranges. */
    boolean contains(InetAddress address) {
        byte[] bytes = Cidr.canonical(address.getAddress());
        return ranges.stream().anyMatch(range -> range.contains(bytes));
    }
}
