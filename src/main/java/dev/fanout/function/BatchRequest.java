package dev.fanout.function;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.batch.http.EscapedJson;
import dev.fanout.batch.http.Problem;

/**
 * The batch a proxy request carries, read strictly: POST only (405), a JSON media type (415), a body that is
 * UTF-8 (base64 bodies too) and strict JSON: no duplicate keys, nothing after the document, no top-level field
 * but {@code items} (400). Each failure is a {@link Problem} that says what is wrong and where.
 * <p>
 * Each element of {@code items} is handed on as its text, for {@link dev.fanout.work.ItemParser} to read as it reads
 * an SQS body: a duplicate key inside one item makes that item malformed, with the reason an SQS record with the
 * same text gets, and leaves the other items of the request alone.
 *
 * @param items       each element of {@code items}, as its text in the body
 * @param preferAsync the request prefers to be queued ({@code Prefer: respond-async})
 */
record BatchRequest(List<String> items, boolean preferAsync) {

    static BatchRequest read(ApiGatewayRequest request, ObjectMapper mapper) {
        if (!"POST".equals(request.method())) {
            throw Problem.methodNotAllowed(request.method());
        }
        checkContentType(request.header("content-type"));
        return new BatchRequest(items(mapper, bodyText(request)), prefersAsync(request.header("prefer")));
    }

    private static void checkContentType(String contentType) {
        String mediaType = contentType == null ? "" : contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/json") && !(mediaType.startsWith("application/") && mediaType.endsWith("+json"))) {
            throw Problem.unsupportedMediaType(contentType == null ? null : EscapedJson.cap(contentType, 128));
        }
        for (String parameter : contentType.split(";")) {
            String[] nameValue = parameter.split("=", 2);
            if (nameValue.length == 2 && nameValue[0].strip().equalsIgnoreCase("charset")
                    && !nameValue[1].strip().replace("\"", "").equalsIgnoreCase("utf-8")) {
                throw Problem.unsupportedMediaType(EscapedJson.cap(contentType, 128) + " (JSON is UTF-8)");
            }
        }
    }

    /** The body as text: base64 decoded, and only if it is well-formed UTF-8 (or, as given, valid Unicode). */
    private static String bodyText(ApiGatewayRequest request) {
        String body = request.body();
        if (body == null || body.isEmpty()) {
            throw Problem.invalidBatch("the body is empty: send {\"items\": [...]}");
        }
        if (!request.base64()) {
            for (int i = 0; i < body.length(); i++) {
                char c = body.charAt(i);
                if (Character.isHighSurrogate(c) && i + 1 < body.length() && Character.isLowSurrogate(body.charAt(i + 1))) {
                    i++;
                } else if (Character.isSurrogate(c)) {
                    throw Problem.invalidBody("the body has a lone UTF-16 surrogate at character " + i + ": it is not valid Unicode text");
                }
            }
            return body;
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            throw Problem.invalidBody("the body is not valid base64: " + e.getMessage());
        }
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            CharBuffer text = utf8.decode(in);
            return text.toString();
        } catch (MalformedInputException e) {
            throw Problem.invalidBody("the body is not valid UTF-8: " + e.getInputLength() + " malformed byte(s) at byte "
                    + in.position());
        } catch (CharacterCodingException e) {
            throw Problem.invalidBody("the body is not valid UTF-8");
        }
    }

    /**
     * The elements of {@code items}, as text: an object with the one field {@code items}, an array; no duplicate
     * key in the object, nothing after it; an element's own keys are its reader's ({@link dev.fanout.work.ItemParser}).
     * A syntax error inside an element names its index.
     */
    private static List<String> items(ObjectMapper mapper, String body) {
        List<String> items = new ArrayList<>();
        boolean seenItems = false;
        Integer index = null;
        try (JsonParser json = mapper.getFactory().createParser(body)) {
            if (json.nextToken() != JsonToken.START_OBJECT) {
                throw Problem.invalidBatch("the body must be a JSON object with an array 'items'");
            }
            // duplicate keys are looked for in the batch object here; inside an element they are the element's reader's
            // business, so detection is off while the elements are skipped (it applies to the objects opened while on)
            json.enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION.mappedFeature());
            for (JsonToken token = json.nextToken(); token != JsonToken.END_OBJECT; token = json.nextToken()) {
                String field = json.currentName();
                if (!field.equals("items")) {
                    throw Problem.invalidBatch("unknown field '" + EscapedJson.cap(field, 128)
                            + "' (a batch has the one field 'items')");
                }
                seenItems = true;
                if (json.nextToken() != JsonToken.START_ARRAY) {
                    throw Problem.invalidBatch("field 'items' must be an array of items");
                }
                json.disable(StreamReadFeature.STRICT_DUPLICATE_DETECTION.mappedFeature());
                for (int i = 0;; i++) {
                    index = null; // between elements: an error here is in none of them
                    if (json.nextToken() == JsonToken.END_ARRAY) {
                        break;
                    }
                    index = i;
                    int start = Math.toIntExact(json.currentTokenLocation().getCharOffset());
                    json.skipChildren();
                    json.finishToken(); // a string's end is only found when it is read
                    items.add(body.substring(start, Math.toIntExact(json.currentLocation().getCharOffset())));
                }
                json.enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION.mappedFeature());
                index = null;
            }
            if (json.nextToken() != null) {
                throw Problem.invalidJson("the body goes on after its JSON object, at " + where(json), null);
            }
        } catch (JsonParseException e) {
            throw Problem.invalidJson("the body is not valid JSON: " + e.getOriginalMessage() + " at "
                    + where(e), index);
        } catch (JsonProcessingException e) {
            throw Problem.invalidJson("the body is not valid JSON: " + e.getOriginalMessage(), index);
        } catch (IOException e) {
            throw Problem.invalidJson("the body cannot be read: " + e.getMessage(), index);
        }
        if (!seenItems) {
            throw Problem.invalidBatch("field 'items' must be an array of items");
        }
        return items;
    }

    private static String where(JsonParser json) {
        return "line " + json.currentLocation().getLineNr() + ", column " + json.currentLocation().getColumnNr();
    }

    private static String where(JsonParseException e) {
        return "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
    }

    /** RFC 7240: {@code Prefer: respond-async}, among other preferences, with or without parameters. */
    static boolean prefersAsync(String prefer) {
        if (prefer == null) {
            return false;
        }
        for (String preference : prefer.split(",")) {
            String name = preference.split("[;=]", 2)[0].strip();
            if (name.equalsIgnoreCase("respond-async")) {
                return true;
            }
        }
        return false;
    }
}
