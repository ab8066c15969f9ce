package dev.fanout.work.http;

import java.net.InetAddress;
import java.util.Arrays;

/**
 * An address range: the first {@code prefix} bits of {@code network}. IPv4-mapped IPv6 is read as its IPv4
 * address, here and in {@link #canonical}, so that an IPv4 range matches it.
 */
record Cidr(byte[] network, int prefix) {

    /** The address is copied in and out: a record's equality is its values', and nobody changes a range. */
    Cidr {
        network = network.clone();
    }

    @Override
    public byte[] network() {
        return network.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Cidr that && prefix == that.prefix && Arrays.equals(network, that.network);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(network) + prefix;
    }

    @Override
    public String toString() {
        return MessageText.address(Cidr.literalOf(network)) + "/" + prefix;
    }

    private static InetAddress literalOf(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException("an address of " + bytes.length + " bytes", e);
        }
    }

    /**
     * A range such as {@code 10.0.0.0/8} or {@code ::1/128}.
     *
     * @param text    the whole entry, for messages
     * @param network the part before the '/', a normalized host
     * @param length  the part after it
     */
    static Cidr parse(String text, String network, String length) {
        InetAddress address = literal(network);
        if (address == null) {
            throw new IllegalArgumentException("allow entry '" + text + "' has no IP address before the '/'");
        }
        byte[] bytes = address.getAddress();
        // InetAddress reads an IPv4-mapped IPv6 literal (::ffff:10.0.0.0) as its IPv4 address: its prefix still
        // counts the 96 bits of IPv6 before that address
        int mappedBits = bytes.length == 4 && network.contains(":") ? 96 : 0;
        int prefix;
        try {
            prefix = Integer.parseInt(length);
        } catch (NumberFormatException e) {
            prefix = -1;
        }
        if (prefix < mappedBits || prefix > mappedBits + bytes.length * 8) {
            throw new IllegalArgumentException("allow entry '" + text + "' must have a prefix length between "
                    + mappedBits + " and " + (mappedBits + bytes.length * 8));
        }
        return new Cidr(bytes, prefix - mappedBits);
    }

    /** A range written with its '/', as the special-purpose tables write them. */
    static Cidr of(String text) {
        int slash = text.indexOf('/');
        return parse(text, text.substring(0, slash), text.substring(slash + 1));
    }

    /** The one address {@code address}, canonical. */
    static Cidr single(InetAddress address) {
        byte[] bytes = canonical(address.getAddress());
        return new Cidr(bytes, bytes.length * 8);
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

    /** The address {@code name} spells, or null if it is a host name. */
    static InetAddress literal(String name) {
        try {
            return InetAddress.ofLiteral(name);
        } catch (IllegalArgumentException notALiteral) {
            return null;
        }
    }

    /** Whether {@code b} is IPv4-mapped IPv6 (::ffff:0:0/96). */
    static boolean isMapped(byte[] b) {
        if (b.length != 16 || b[10] != -1 || b[11] != -1) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** IPv4-mapped IPv6 as its IPv4 address, so that IPv4 ranges of the allow-list match it. */
    static byte[] canonical(byte[] b) {
        return isMapped(b) ? Arrays.copyOfRange(b, 12, 16) : b;
    }
}
