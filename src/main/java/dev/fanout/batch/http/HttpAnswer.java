package dev.fanout.batch.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The bytes the HTTP entry point writes as its Lambda response: the proxy integration's
 * {@code {"statusCode": ..., "headers": {...}, "body": "...", "isBase64Encoded": false}}, with the body
 * assembled from pieces already escaped ({@link EscapedJson}). Its {@link #size()} is exactly what Lambda
 * counts against its response limit, known before a byte is written.
 */
public final class HttpAnswer {

    /** Lambda's limit on a synchronous response, as {@code Function.ResponseSizeTooLarge} reports it. */
    public static final int LAMBDA_RESPONSE_LIMIT = 6_291_556;

    private final int status;
    private final byte[] head;
    private final List<byte[]> body;
    private final byte[] tail;
    private final long size;

    private HttpAnswer(int status, byte[] head, List<byte[]> body, byte[] tail) {
        this.status = status;
        this.head = head;
        this.body = body;
        this.tail = tail;
        long bytes = head.length + tail.length;
        for (byte[] piece : body) {
            bytes += piece.length;
        }
        this.size = bytes;
    }

    /**
     * @param headers    response headers; {@code Content-Type} first
     * @param bodyPieces the body's JSON, escaped, in order
     */
    static HttpAnswer of(ObjectMapper mapper, int status, Map<String, String> headers, List<byte[]> bodyPieces) {
        return new HttpAnswer(status, head(mapper, status, headers), List.copyOf(bodyPieces), TAIL);
    }

    private static final byte[] TAIL = "\",\"isBase64Encoded\":false}".getBytes(StandardCharsets.US_ASCII);

    /** Everything before the body: the envelope's size does not depend on the body. */
    static byte[] head(ObjectMapper mapper, int status, Map<String, String> headers) {
        ObjectNode headerNode = mapper.createObjectNode();
        new LinkedHashMap<>(headers).forEach(headerNode::put);
        String text = "{\"statusCode\":" + status + ",\"headers\":" + headerNode + ",\"body\":\"";
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The envelope's bytes around a body, for budgeting it. */
    public static int envelopeSize(ObjectMapper mapper, int status, Map<String, String> headers) {
        return head(mapper, status, headers).length + TAIL.length;
    }

    public int status() {
        return status;
    }

    /** The bytes {@link #writeTo} writes. */
    public long size() {
        return size;
    }

    public void writeTo(OutputStream out) throws IOException {
        out.write(head);
        for (byte[] piece : body) {
            out.write(piece);
        }
        out.write(tail);
    }

    /** The whole response, as Lambda receives it. */
    public byte[] bytes() {
        var out = new ByteArrayOutputStream((int) Math.min(size, Integer.MAX_VALUE - 8));
        try {
            writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
