package dev.fanout.work.http;

import java.net.InetAddress;
import java.net.URI;
import java.util.Arrays;

/**
 * How the http handler's messages write what an item gave or met: text with its control characters
 * escaped, URLs without their query (it may carry credentials), addresses in their usual short form. Only
 * messages use it; nothing is parsed back.
 */
final class MessageText {

    private MessageText() {
    }

    /** {@code text} with control characters escaped, safe to put in a message. */
    static String printable(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\r' -> out.append("\\r");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    /** {@code text} cut at 100 characters. */
    static String abbreviate(String text) {
        return text.length() <= 100 ? text : text.substring(0, 100) + "...";
    }

    static String statusLine(int status, URI uri) {
        return "HTTP " + status + " from " + display(uri);
    }

    /** The URL for messages: scheme, host, port and path, without the query (it may carry credentials). */
    static String display(URI uri) {
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() >= 0 ? ":" + uri.getPort() : "") + path
                + (uri.getRawQuery() != null ? "?..." : "");
    }

    /** The address in its usual short form: dotted IPv4, RFC 5952 IPv6 ({@code ::ffff:1.2.3.4} when mapped). */
    static String address(InetAddress address) {
        byte[] b = address.getAddress();
        if (b.length == 4) {
            return dotted(b);
        }
        if (Cidr.isMapped(b)) {
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

    /** Four bytes as a dotted IPv4 address. */
    static String dotted(byte[] b) {
        return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff);
    }
}
