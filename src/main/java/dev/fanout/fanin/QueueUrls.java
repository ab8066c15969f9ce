package dev.fanout.fanin;

import java.net.URI;
import java.util.Optional;

/**
 * A queue's URL from its ARN, as an SQS event record's {@code eventSourceARN} gives it:
 * {@code arn:aws:sqs:us-east-1:123456789012:work} is {@code https://sqs.us-east-1.amazonaws.com/123456789012/work}
 * (China's partition ends in {@code .amazonaws.com.cn}). With an endpoint override (ElasticMQ, a VPC endpoint)
 * the URL is the override's, followed by the account and the name, which is the URL ElasticMQ gives its queues.
 */
public final class QueueUrls {

    private QueueUrls() {
    }

    /** The queue's URL; empty for anything that is not an SQS queue's ARN. */
    public static Optional<String> fromArn(String arn, Optional<URI> endpoint) {
        if (arn == null) {
            return Optional.empty();
        }
        String[] parts = arn.split(":", -1);
        if (parts.length != 6 || !parts[0].equals("arn") || !parts[2].equals("sqs") || parts[1].isEmpty()
                || parts[3].isEmpty() || parts[4].isEmpty() || !validName(parts[5])) {
            return Optional.empty();
        }
        String account = parts[4];
        String name = parts[5];
        if (endpoint.isPresent()) {
            String base = endpoint.get().toString();
            return Optional.of((base.endsWith("/") ? base : base + "/") + account + "/" + name);
        }
        String domain = parts[1].equals("aws-cn") ? "amazonaws.com.cn" : "amazonaws.com";
        return Optional.of("https://sqs." + parts[3] + "." + domain + "/" + account + "/" + name);
    }

    /** SQS's queue names: 1 to 80 letters, digits, hyphens and underscores, and a FIFO queue's {@code .fifo}. */
    private static boolean validName(String name) {
        String base = name.endsWith(".fifo") ? name.substring(0, name.length() - ".fifo".length()) : name;
        return !base.isEmpty() && name.length() <= 80 && base.chars().allMatch(
                c -> (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_');
    }
}
