package dev.fanout.fanin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A queue's URL from its ARN: SQS's queue names exactly, the partitions, an endpoint with or without its slash. */
class QueueUrlsTest {

    static Optional<String> url(String name) {
        return QueueUrls.fromArn("arn:aws:sqs:us-east-1:123456789012:" + name, Optional.empty());
    }

    @ParameterizedTest
    @ValueSource(strings = { "a", "z", "A", "Z", "0", "9", "-", "_", "azAZ09-_", "q.fifo", "-.fifo" })
    void eachCharacterSqsAllowsIsANameOfItsOwn(String name) {
        assertThat(url(name)).contains("https://sqs.us-east-1.amazonaws.com/123456789012/" + name);
    }

    @ParameterizedTest
    @ValueSource(strings = { "`", "{", "@", "[", "/", ".", "a.b", "q.fifo.fifo", ".fifo", "fifo.", "a b", "é", "q.FIFO" })
    void anyOtherCharacterIsNoName(String name) {
        assertThat(url(name)).as(name).isEmpty();
    }

    @Test
    void aNameIsAtMost80CharactersItsFifoSuffixIncluded() {
        assertThat(url("x".repeat(80))).isPresent();
        assertThat(url("x".repeat(81))).isEmpty();
        assertThat(url("x".repeat(75) + ".fifo")).isPresent();
        assertThat(url("x".repeat(76) + ".fifo")).isEmpty();
    }

    @Test
    void thePartitionPicksTheDomainAndMustBeThere() {
        assertThat(QueueUrls.fromArn("arn:aws-cn:sqs:cn-north-1:1:q", Optional.empty()))
                .contains("https://sqs.cn-north-1.amazonaws.com.cn/1/q");
        assertThat(QueueUrls.fromArn("arn:aws-us-gov:sqs:us-gov-west-1:1:q", Optional.empty()))
                .contains("https://sqs.us-gov-west-1.amazonaws.com/1/q");
        assertThat(QueueUrls.fromArn("arn::sqs:us-east-1:1:q", Optional.empty())).isEmpty();
    }

    @Test
    void anEndpointIsFollowedByOneSlashWhetherItEndsInOneOrNot() {
        assertThat(QueueUrls.fromArn("arn:aws:sqs:us-east-1:1:q", Optional.of(URI.create("http://127.0.0.1:9324"))))
                .contains("http://127.0.0.1:9324/1/q");
        assertThat(QueueUrls.fromArn("arn:aws:sqs:us-east-1:1:q", Optional.of(URI.create("http://127.0.0.1:9324/"))))
                .contains("http://127.0.0.1:9324/1/q");
        assertThat(QueueUrls.fromArn("arn:aws:sqs:us-east-1:1:q", Optional.of(URI.create("https://vpce.example/sqs"))))
                .contains("https://vpce.example/sqs/1/q");
    }
}
