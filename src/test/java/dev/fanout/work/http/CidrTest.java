package dev.fanout.work.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** A range is a value: equal ranges are equal, whatever array they were read into, and nobody can change one. */
class CidrTest {

    @Test
    void rangesAreEqualByTheirAddressAndPrefix() {
        assertThat(Cidr.of("10.0.0.0/8")).isEqualTo(Cidr.of("10.0.0.0/8")).hasSameHashCodeAs(Cidr.of("10.0.0.0/8"))
                .isNotEqualTo(Cidr.of("10.0.0.0/16")).isNotEqualTo(Cidr.of("11.0.0.0/8"));
        assertThat(Set.of(Cidr.of("::1/128"), Cidr.of("192.168.0.0/16"))).contains(Cidr.of("::1/128"));
        // an allow-list is a record of ranges: two read from the same text are equal
        assertThat(AllowList.parse(List.of("10.0.0.0/8", "example.com"))).isEqualTo(AllowList.parse(List.of("10.0.0.0/8", "example.com")));
    }

    @Test
    void theAddressIsCopiedInAndOut() {
        byte[] bytes = { 10, 0, 0, 0 };
        Cidr range = new Cidr(bytes, 8);
        bytes[0] = 11;
        range.network()[0] = 12;

        assertThat(range.contains(new byte[] { 10, 1, 2, 3 })).isTrue();
        assertThat(range).isEqualTo(Cidr.of("10.0.0.0/8"));
        assertThat(range).hasToString("10.0.0.0/8");
    }
}
