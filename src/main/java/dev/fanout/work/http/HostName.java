package dev.fanout.work.http;

import java.util.Locale;

/** The one spelling of a host that the SSRF guard, its allow-list and the pinned resolver compare. */
final class HostName {

    private HostName() {
    }

    /** Lower case, without IPv6 brackets or a trailing dot. */
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
}
