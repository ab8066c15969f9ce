package dev.fanout.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;

import org.junit.jupiter.api.Test;

import dev.fanout.engine.Cancellation.Cause;

/** An item's cancellation signal as its handler sees it, cancelled the way the engine cancels it. */
class CancellationTest {

    final Cancellation cancellation = new Cancellation();
    final List<String> ran = new ArrayList<>();

    @Test
    void beforeItsCancellationAnItemRunsOnUndisturbed() {
        cancellation.onCancel(() -> ran.add("callback"));

        assertThat(cancellation.isCancelled()).isFalse();
        assertThat(cancellation.cause()).isEmpty();
        assertThatCode(cancellation::throwIfCancelled).doesNotThrowAnyException();
        assertThat(ran).isEmpty();
    }

    @Test
    void theFirstCauseIsTheOnlyOne() {
        assertThat(cancellation.markCancelled(Cause.ITEM_TIMEOUT)).isTrue();
        assertThat(cancellation.markCancelled(Cause.CUT_OFF)).isFalse();

        assertThat(cancellation.isCancelled()).isTrue();
        assertThat(cancellation.cause()).contains(Cause.ITEM_TIMEOUT);
        assertThatThrownBy(cancellation::throwIfCancelled).isInstanceOf(CancellationException.class)
                .hasMessage("item cancelled: ITEM_TIMEOUT");
    }

    @Test
    void callbacksRunOnceInOrderAndAFailingOneStopsNoOther() {
        assertThat(cancellation.hasCallbacks()).isFalse();
        cancellation.onCancel(() -> ran.add("first"));
        cancellation.onCancel(() -> {
            throw new IllegalStateException("a callback that fails");
        });
        cancellation.onCancel(() -> ran.add("third"));
        assertThat(cancellation.hasCallbacks()).isTrue();

        cancellation.markCancelled(Cause.CUT_OFF);
        cancellation.runCallbacks();
        cancellation.runCallbacks();

        assertThat(ran).containsExactly("first", "third");
        assertThat(cancellation.hasCallbacks()).isFalse();
    }

    @Test
    void aCallbackRegisteredAfterTheCancellationRunsAtOnceAndOnlyThen() {
        cancellation.markCancelled(Cause.CUT_OFF);
        cancellation.runCallbacks(); // nothing registered yet

        cancellation.onCancel(() -> ran.add("late"));
        assertThat(ran).containsExactly("late");
        cancellation.onCancel(() -> {
            throw new IllegalStateException("a late callback that fails");
        });
        cancellation.runCallbacks();

        assertThat(ran).containsExactly("late");
        assertThat(cancellation.hasCallbacks()).isFalse();
    }

    @Test
    void aNullCallbackIsRefused() {
        assertThatThrownBy(() -> cancellation.onCancel(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("callback");
    }
}
