package dev.fanout.work.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.fanout.engine.NonRetryableException;

/**
 * The SSRF guard's rules one at a time, without HTTP: allow-list entries (ranges, single addresses, IPv4-mapped
 * ranges), the spelling of hosts, addresses that only look IPv4-mapped, and resolvers that answer nothing.
 * HttpCallFunctionTest shows the same guard in front of real requests.
 */
class SsrfGuardTest {

    /** Resolves every name to {@code addresses}. */
    static SsrfGuard guard(List<String> allow, InetAddress... addresses) {
        return new SsrfGuard(true, allow, host -> addresses);
    }

    static InetAddress ip(String literal) {
        return InetAddress.ofLiteral(literal);
    }

    /** An IPv6 address of 16 bytes whatever they hold (InetAddress would read an IPv4-mapped one as IPv4). */
    static byte[] v6(int... bytes) {
        byte[] address = new byte[16];
        for (int i = 0; i < 16; i++) {
            address[i] = (byte) bytes[i];
        }
        return address;
    }

    static InetAddress v6Address(byte[] bytes) throws UnknownHostException {
        return Inet6Address.getByAddress(null, bytes, -1);
    }

    @Test
    void aSingleAddressOnTheAllowListOpensThatAddressAlone() throws UnknownHostException {
        var guard = guard(List.of("10.0.0.5"));

        assertThat(guard.vet("10.0.0.5")).containsExactly(ip("10.0.0.5"));
        assertThatThrownBy(() -> guard.vet("10.0.0.6")).isInstanceOf(NonRetryableException.class)
                .hasMessage("refused by the SSRF guard: 10.0.0.6 is private");
    }

    @Test
    void aZeroLengthPrefixOpensItsWholeFamily() throws UnknownHostException {
        var guard = guard(List.of("0.0.0.0/0"));

        assertThat(guard.vet("127.0.0.1")).containsExactly(ip("127.0.0.1"));
        assertThat(guard.vet("169.254.169.254")).containsExactly(ip("169.254.169.254"));
        assertThatThrownBy(() -> guard.vet("[::1]")).isInstanceOf(NonRetryableException.class)
                .hasMessage("refused by the SSRF guard: ::1 is loopback");
    }

    @Test
    void anIpv4MappedRangeIsTheIpv4RangeItMaps() throws UnknownHostException {
        // ::ffff:10.0.0.0/104 is 10.0.0.0/8; ::ffff:0:0/96 is every IPv4 address
        var tenSlashEight = guard(List.of("::ffff:10.0.0.0/104"));
        assertThat(tenSlashEight.vet("10.200.0.1")).containsExactly(ip("10.200.0.1"));
        assertThatThrownBy(() -> tenSlashEight.vet("192.168.0.1")).isInstanceOf(NonRetryableException.class)
                .hasMessage("refused by the SSRF guard: 192.168.0.1 is private");

        var everyIpv4 = guard(List.of("::ffff:0.0.0.0/96"));
        assertThat(everyIpv4.vet("127.0.0.1")).containsExactly(ip("127.0.0.1"));
        assertThatThrownBy(() -> everyIpv4.vet("[fd00::1]")).isInstanceOf(NonRetryableException.class)
                .hasMessage("refused by the SSRF guard: fd00::1 is unique local");
    }

    @Test
    void anIpv6RangeStaysAnIpv6Range() throws UnknownHostException {
        var guard = guard(List.of("fd00:ec2::/32"));

        assertThat(guard.vet("[fd00:ec2::254]")).containsExactly(ip("fd00:ec2::254"));
        assertThatThrownBy(() -> guard.vet("[fd00:ec3::1]")).isInstanceOf(NonRetryableException.class)
                .hasMessage("refused by the SSRF guard: fd00:ec3::1 is unique local");
    }

    @Test
    void badRangesAreToldApart() {
        assertThatThrownBy(() -> guard(List.of("/8"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("allow entry '/8' has no IP address before the '/'");
        assertThatThrownBy(() -> guard(List.of("10.0.0.0/-1"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("allow entry '10.0.0.0/-1' must have a prefix length between 0 and 32");
        assertThatThrownBy(() -> guard(List.of("fd00::/129"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("allow entry 'fd00::/129' must have a prefix length between 0 and 128");
        assertThatThrownBy(() -> guard(List.of("10.0.0.0/eight"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("allow entry '10.0.0.0/eight' must have a prefix length between 0 and 32");
        assertThatThrownBy(() -> guard(List.of("::ffff:10.0.0.0/8"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("allow entry '::ffff:10.0.0.0/8' must have a prefix length between 96 and 128");
        assertThatThrownBy(() -> guard(List.of(" "))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("allow entry must not be blank");
    }

    @Test
    void rangesWrittenWithTheirSlashMatchByTheirPrefix() {
        Cidr slash12 = Cidr.of("172.16.0.0/12");
        assertThat(slash12.contains(ip("172.31.255.255").getAddress())).isTrue();
        assertThat(slash12.contains(ip("172.32.0.0").getAddress())).isFalse();
        assertThat(slash12.contains(v6(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 172, 16, 0, 1))).isFalse(); // one family
        assertThat(Cidr.of("2001:db8::/32").contains(ip("2001:db8:ffff::1").getAddress())).isTrue();
    }

    @Test
    void onlyAnAddressWithTenZeroBytesThenTwoFfBytesIsIpv4Mapped() throws UnknownHostException {
        assertThat(AddressClass.classify(v6Address(v6(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1))))
                .isEqualTo("loopback (IPv4-mapped 127.0.0.1)");
        // the same last 48 bits under another prefix, or with only one of the two ff bytes: not mapped, public
        assertThat(AddressClass.classify(v6Address(v6(0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1)))).isNull();
        assertThat(AddressClass.classify(v6Address(v6(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0, 127, 0, 0, 1)))).isNull();
        assertThat(AddressClass.classify(v6Address(v6(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 127, 0, 0, 1)))).isNull();
    }

    @Test
    void aHostIsComparedLowerCaseWithoutBracketsOrATrailingDot() {
        assertThat(HostName.normalize("[FD12::1]")).isEqualTo("fd12::1");
        assertThat(HostName.normalize("Intranet.Test.")).isEqualTo("intranet.test");
        assertThat(HostName.normalize("[fd12::1")).isEqualTo("[fd12::1");
        assertThat(HostName.normalize("fd12::1]")).isEqualTo("fd12::1]");
    }

    @Test
    void aResolverThatAnswersNoAddressIsAnUnknownHost() {
        assertThatThrownBy(() -> guard(List.of()).vet("empty.test")).isInstanceOf(UnknownHostException.class)
                .hasMessage("empty.test has no addresses");
        assertThatThrownBy(() -> new SsrfGuard(true, List.of(), host -> null).vet("null.test"))
                .isInstanceOf(UnknownHostException.class).hasMessage("null.test has no addresses");
    }

    @Test
    void anAmbiguousIpv4SpellingIsFoundInAUrlsAuthority() {
        assertThat(SsrfGuard.ambiguousNumericAuthority("user:pw@0x7f.1:8080")).startsWith("the host '0x7f.1' is an ambiguous");
        assertThat(SsrfGuard.ambiguousNumericAuthority("127.1")).startsWith("the host '127.1' is an ambiguous");
        assertThat(SsrfGuard.ambiguousNumericAuthority("user@127.0.0.1:8080")).isNull();
        assertThat(SsrfGuard.ambiguousNumericAuthority("[::1]:8080")).isNull();
        assertThat(SsrfGuard.ambiguousNumericAuthority(null)).isNull();
    }
}
