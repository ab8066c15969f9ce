package dev.fanout.fanin;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;

import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/** What an SQS error means for the sender: retry it, split the request, give up on the queue, or count a throttle. */
final class SqsErrors {

    private SqsErrors() {
    }

    static boolean retryable(SdkException e) {
        if (e instanceof AwsServiceException service) {
            int status = service.statusCode();
            return service.isThrottlingException() || status == 429 || status >= 500;
        }
        return e instanceof SdkClientException; // network errors and call timeouts
    }

    /**
     * The whole request refused for what it holds (too long, invalid contents, a bad parameter): sending
     * it again unchanged cannot help. A 4xx that is not a throttle, or any error SQS marks as the sender's.
     */
    static boolean isSenderFault(SdkException e) {
        if (!(e instanceof AwsServiceException service) || service.isThrottlingException()) {
            return false;
        }
        int status = service.statusCode();
        String code = service.awsErrorDetails() == null ? "" : String.valueOf(service.awsErrorDetails().errorCode());
        if (isThrottle(code) || status == 429 || status == 403 || code.contains("AccessDenied")
                || code.contains("NonExistentQueue") || code.contains("QueueDoesNotExist") || code.contains("Signature")
                || code.contains("Token") || code.contains("Credential")) {
            return false; // about the caller or the queue, not the entries: halving would only multiply requests
        }
        return status >= 400 && status < 500;
    }

    /** The connection could not be opened: nothing reached the queue. */
    static boolean isConnectFailure(SdkException e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof ConnectException || cause instanceof UnknownHostException
                    || cause instanceof NoRouteToHostException) {
                return true;
            }
            if (cause.getCause() == cause) {
                break;
            }
        }
        return false;
    }

    static boolean isThrottle(String code) {
        return code != null && (code.contains("Throttl") || code.equals("RequestThrottled")
                || code.equals("KmsThrottled") || code.equals("TooManyRequests"));
    }

    static String describe(SdkException e) {
        if (e instanceof AwsServiceException service && service.awsErrorDetails() != null) {
            return "HTTP " + service.statusCode() + " " + service.awsErrorDetails().errorCode() + ": "
                    + service.awsErrorDetails().errorMessage();
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
