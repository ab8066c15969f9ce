package dev.fanout.work.http;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.net.URI;
import java.nio.charset.Charset;
import java.time.Duration;
import java.util.Map;

import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.util.Timeout;

/**
 * One request of an item's chain: the first, or a redirect ({@code from} is the URL that sent it).
 *
 * @param body the request body, encoded in the charset of the {@code content-type} header (UTF-8 if none or
 *             unknown); sent as {@code text/plain; charset=UTF-8} without that header
 */
record OutboundRequest(String method, URI uri, Map<String, String> headers, String body, URI from) {

    String describe() {
        return method + " " + MessageText.display(uri);
    }

    /** The request of one attempt, its every wait bounded by {@code limit}. */
    HttpUriRequestBase toRequest(Duration limit) {
        var request = new HttpUriRequestBase(method, uri);
        headers.forEach(request::addHeader);
        if (body != null) {
            request.setEntity(entity(body, headerValue("content-type")));
        }
        request.setConfig(RequestConfig.custom()
                // bounded by the attempt's limit: a full pool makes an item wait, never hang
                .setConnectionRequestTimeout(Timeout.of(limit))
                .setResponseTimeout(Timeout.of(limit))
                .build());
        return request;
    }

    private static HttpEntity entity(String body, String contentType) {
        if (contentType == null) {
            return new ByteArrayEntity(body.getBytes(UTF_8), ContentType.TEXT_PLAIN.withCharset(UTF_8));
        }
        Charset charset = BodyText.charset(contentType);
        // the item's header goes out as given; with a charset Java does not know, the body stays UTF-8
        return new ByteArrayEntity(body.getBytes(charset == null ? UTF_8 : charset), null);
    }

    private String headerValue(String name) {
        for (Map.Entry<String, String> header : headers.entrySet()) {
            if (header.getKey().equalsIgnoreCase(name)) {
                return header.getValue();
            }
        }
        return null;
    }
}
