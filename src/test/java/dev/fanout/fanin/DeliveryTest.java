package dev.fanout.fanin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

/** What a delivery reports: a result is delivered exactly when it has no failure. */
class DeliveryTest {

    @Test
    void aResultIsDeliveredExactlyWhenItHasNoFailure() {
        var delivery = new Delivery(Arrays.asList(null, "SQS refused the entry: InternalError", null), 2, 1, 0,
                Arrays.asList("m-0", null, "m-2"));

        assertThat(delivery.delivered(0)).isTrue();
        assertThat(delivery.delivered(1)).isFalse();
        assertThat(delivery.delivered(2)).isTrue();
        assertThat(delivery.deliveredCount()).isEqualTo(2);
        assertThat(delivery.messageId(0)).isEqualTo("m-0");
        assertThat(delivery.messageId(1)).isNull();
    }

    @Test
    void theShortFormsHaveNoIdsNoRefusalsAndAReachableQueue() {
        var delivery = new Delivery(Arrays.asList("no time left to send", null), 1, 0, 0);

        assertThat(delivery.messageIds()).containsExactly(null, null);
        assertThat(delivery.refused()).isZero();
        assertThat(delivery.tooLarge()).isZero();
        assertThat(delivery.unreachable()).isFalse();
        assertThat(delivery.delivered(0)).isFalse();
        assertThat(delivery.deliveredCount()).isEqualTo(1);
    }

    @Test
    void itHoldsACopyThatCannotBeChanged() {
        List<String> failures = new ArrayList<>(Arrays.asList((String) null));
        var delivery = new Delivery(failures, 1, 0, 0);

        failures.set(0, "changed afterwards");

        assertThat(delivery.delivered(0)).isTrue();
        assertThatThrownBy(() -> delivery.failures().set(0, "x")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> delivery.messageIds().set(0, "x")).isInstanceOf(UnsupportedOperationException.class);
    }
}
