package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.work.ItemParser;
import dev.fanout.work.WorkHandlers;

/** The HTTP batch logic in process: the response stays within what Lambda can return. */
class HttpBatchProcessorTest {

    static final ObjectMapper MAPPER = dev.fanout.testing.JacksonBindings.recording(new ObjectMapper());

    static APIGatewayV2HTTPEvent post(String body) {
        return APIGatewayV2HTTPEvent.builder().withBody(body).withIsBase64Encoded(false)
                .withRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder()
                        .withHttp(APIGatewayV2HTTPEvent.RequestContext.Http.builder().withMethod("POST").build())
                        .withTimeEpoch(System.currentTimeMillis()).build())
                .build();
    }

    @Test
    void outputsBeyondTheResponseBudgetBecomeErrorsInsteadOfFailingTheResponse() throws Exception {
        var handlers = WorkHandlers.builder(MAPPER).register("echo", ctx -> Map.of("text", "x".repeat(400))).build();
        var processor = new HttpBatchProcessor(new WorkerPool(Limits.of(4).withCutoffMargin(Duration.ofMillis(100))),
                handlers, new ItemParser(MAPPER, Optional.empty()), MAPPER,
                new HttpBatchProcessor.Settings(Duration.ofSeconds(29), 100, 1_500));

        var response = processor.process(post("{\"items\":[{\"type\":\"echo\"},{\"type\":\"echo\"},{\"type\":\"echo\"},"
                + "{\"type\":\"echo\"},{\"type\":\"echo\"}]}"), Deadline.after(Duration.ofSeconds(10)));

        assertThat(response.getStatusCode()).isEqualTo(200);
        JsonNode body = MAPPER.readTree(response.getBody());
        JsonNode results = body.get("results");
        assertThat(results).hasSize(5);
        // the first results fit whole; from the first that does not, outputs are replaced by a short error
        int whole = 0;
        while (whole < 5 && results.get(whole).get("status").asText().equals("succeeded")) {
            whole++;
        }
        assertThat(whole).isBetween(1, 4);
        long bytes = 0;
        for (int i = 0; i < 5; i++) {
            bytes += MAPPER.writeValueAsBytes(results.get(i)).length;
            if (i >= whole) {
                assertThat(results.get(i).at("/error/type").asText()).isEqualTo("OutputTooLarge");
                assertThat(results.get(i).at("/error/message").asText())
                        .isEqualTo("the response would exceed 1500 bytes; send fewer items per request");
            }
        }
        assertThat(bytes).isLessThanOrEqualTo(1_500);
        assertThat(body.at("/summary/outputTooLarge").asInt()).isEqualTo(5 - whole);
    }

    static HttpBatchProcessor processor(ObjectMapper mapper) {
        var handlers = WorkHandlers.builder(mapper).register("echo", ctx -> Map.of("text", "x")).build();
        return new HttpBatchProcessor(new WorkerPool(Limits.of(4).withCutoffMargin(Duration.ofMillis(100))),
                handlers, new ItemParser(mapper, Optional.empty()), mapper,
                new HttpBatchProcessor.Settings(Duration.ofSeconds(29), 100, 100_000));
    }

    @Test
    void unwritableResultsBecomeHandWrittenErrorResultsAndTheOtherItemsGoOn() throws Exception {
        var response = processor(SqsBatchProcessorTest.mapperThatCannotWriteResults()).process(
                post("{\"items\":[{\"id\":\"a\",\"type\":\"echo\"},{\"id\":\"b\",\"type\":\"nope\"}]}"),
                Deadline.after(Duration.ofSeconds(10)));

        assertThat(response.getStatusCode()).isEqualTo(200);
        JsonNode results = MAPPER.readTree(response.getBody()).get("results");
        assertThat(results).hasSize(2);
        assertThat(results.get(0).get("itemId").asText()).isEqualTo("a");
        assertThat(results.get(1).get("itemId").asText()).isEqualTo("b");
        for (JsonNode result : results) {
            assertThat(result.get("status").asText()).isEqualTo("failed");
            assertThat(result.at("/error/type").asText()).isEqualTo("OutputNotWritable");
            assertThat(result.at("/error/message").asText()).startsWith("the result could not be written as JSON: ")
                    .contains("no serializer for dev.fanout.fanin.ResultRecord");
        }
    }

    @Test
    void aResponseThatCannotBeBuiltIsACleanProblemAnswer() throws Exception {
        ObjectMapper cannotWriteBytes = new ObjectMapper() {
            @Override
            public byte[] writeValueAsBytes(Object value) throws com.fasterxml.jackson.core.JsonProcessingException {
                throw new com.fasterxml.jackson.databind.JsonMappingException(null, "broken writer");
            }
        };

        var response = processor(cannotWriteBytes).process(post("{\"items\":[{\"type\":\"echo\"}]}"),
                Deadline.after(Duration.ofSeconds(10)));

        assertThat(response.getStatusCode()).isEqualTo(500);
        assertThat(response.getHeaders()).containsEntry("Content-Type", "application/json");
        assertThat(MAPPER.readTree(response.getBody()).get("error").asText()).isEqualTo(
                "the response could not be built (IllegalStateException); the function's log has the cause");
    }
}
