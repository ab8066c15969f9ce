package dev.fanout.work.http;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.util.Locale;

import org.apache.hc.core5.http.ContentType;

/**
 * How a response body goes into the output. It is text when the content type is {@code text/*}, JSON, XML
 * or names a charset, and the bytes decode in that charset (UTF-8 if none) without control characters
 * other than tab, CR and LF (a character cut by the cap at the end of a truncated body is dropped);
 * otherwise it is base64. So the body takes at most 3 × {@code maxBodyBytes} bytes of JSON as text (a byte
 * of a single-byte charset can become a three-byte UTF-8 character; an escape takes two), 4/3 × as base64.
 * The media type and its charset are read by HttpClient's {@link ContentType}.
 */
final class BodyText {

    private BodyText() {
    }

    /**
     * The body as text if its content type is textual and it decodes cleanly without control characters
     * (tab, CR and LF aside), else null. A truncated body may end inside a character: that tail is dropped.
     */
    static String text(byte[] body, boolean truncated, String contentType) {
        if (contentType == null) {
            return body.length == 0 ? "" : null;
        }
        ContentType type = ContentType.parseLenient(contentType);
        if (type == null) {
            return null;
        }
        String mime = type.getMimeType().toLowerCase(Locale.ROOT);
        String charsetName = charsetName(type);
        boolean textual = mime.startsWith("text/") || mime.endsWith("/json") || mime.endsWith("+json")
                || mime.endsWith("/xml") || mime.endsWith("+xml") || charsetName != null;
        if (!textual) {
            return null;
        }
        Charset charset = charsetName == null ? UTF_8 : known(charsetName);
        if (charset == null) {
            return null;
        }
        CharsetDecoder decoder = charset.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        CharBuffer chars = CharBuffer.allocate((int) Math.ceil(body.length * (double) decoder.maxCharsPerByte()) + 1);
        CoderResult result = decoder.decode(ByteBuffer.wrap(body), chars, !truncated);
        if (result.isError() || result.isOverflow() || !truncated && decoder.flush(chars).isError()) {
            return null;
        }
        chars.flip();
        for (int i = 0; i < chars.length(); i++) {
            char c = chars.charAt(i);
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f) {
                return null;
            }
        }
        return chars.toString();
    }

    /** The charset a {@code content-type} header value names, if it names one Java knows; else null. */
    static Charset charset(String contentType) {
        ContentType type = ContentType.parseLenient(contentType);
        String name = type == null ? null : charsetName(type);
        return name == null ? null : known(name);
    }

    private static String charsetName(ContentType type) {
        String name = type.getParameter("charset");
        return name == null || name.isBlank() ? null : name.strip();
    }

    private static Charset known(String name) {
        try {
            return Charset.forName(name);
        } catch (IllegalArgumentException unknown) {
            return null;
        }
    }
}
