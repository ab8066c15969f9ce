package dev.fanout.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;

import org.junit.jupiter.api.Test;

import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

class ElasticMqTest {

    @Test
    void theSharedServerIsOnePerJvm() {
        assertThat(ElasticMq.shared()).isSameAs(ElasticMq.shared());
    }

    @Test
    void aSharedServerOutlivesAClose() {
        // a server of the shared kind, not the JVM's own: if close() ever stopped it, only this test would fail
        ElasticMq sqs = ElasticMq.start(true);
        try {
            sqs.close();

            String queue = sqs.createQueue("after-close");
            sqs.client().sendMessage(r -> r.queueUrl(queue).messageBody("still here"));
            assertThat(sqs.depth(queue)).isEqualTo(1);
        } finally {
            sqs.stop();
        }
    }

    @Test
    void aTestRunAgainGetsANewEmptyQueueOfTheSameKind() {
        // PIT runs a test once per mutant in the same JVM: the second run must not see the first run's messages
        ElasticMq sqs = ElasticMq.shared();
        String first = sqs.createQueue("run-again");
        sqs.client().sendMessage(r -> r.queueUrl(first).messageBody("first run"));

        String second = sqs.createQueue("run-again");

        assertThat(second).isNotEqualTo(first).contains("run-again-");
        assertThat(sqs.depth(first)).isEqualTo(1);
        assertThat(sqs.depth(second)).isZero();
    }

    @Test
    void aFifoQueueKeepsItsSuffixAndIsFifo() {
        ElasticMq sqs = ElasticMq.shared();
        String queue = sqs.createQueue("ordered.fifo");

        assertThat(queue).endsWith(".fifo").contains("ordered-");
        assertThat(ElasticMq.attribute(sqs.client(), queue, QueueAttributeName.FIFO_QUEUE)).isEqualTo("true");
    }

    @Test
    void aServerOfOnesOwnStopsAtClose() {
        ElasticMq own = ElasticMq.start();
        assertThat(own.endpoint()).isNotEqualTo(ElasticMq.shared().endpoint());
        String queue = own.createQueue("own");
        assertThat(own.depth(queue)).isZero();

        own.close();

        assertThat(reachable(own)).isFalse();
        assertThat(reachable(ElasticMq.shared())).isTrue();
    }

    private static boolean reachable(ElasticMq sqs) {
        try (var socket = new Socket(sqs.endpoint().getHost(), sqs.endpoint().getPort())) {
            return true;
        } catch (IOException refused) {
            return false;
        }
    }
}
