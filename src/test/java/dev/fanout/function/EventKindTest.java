package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * Events told apart by their shape, from AWS-shaped fixtures: those this function serves (events/) and stream
 * events it does not (src/test/resources/foreign-events/); and the SQS entry point's check, on events read as
 * Quarkus's Lambda binding reads them (unknown fields ignored, names in any case).
 */
class EventKindTest {

    static final ObjectMapper MAPPER = new ObjectMapper();
    /** As {@code AmazonLambdaMapperRecorder} configures the mapper that reads a RequestHandler's event. */
    static final ObjectMapper LAMBDA_MAPPER = JsonMapper.builder().configure(MapperFeature.ACCEPT_CASE_INSENSITIVE_PROPERTIES, true)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false).build();

    static String fixture(String path) throws Exception {
        return Files.readString(Path.of(path));
    }

    @ParameterizedTest
    @CsvSource({
            "events/sqs-standard.json, an SQS event, sqs",
            "events/sqs-fifo.json, an SQS event, sqs",
            "events/http-batch.json, an API Gateway proxy event, http",
            "events/http-api-v1-batch.json, an API Gateway proxy event, http",
            "events/rest-api-batch.json, an API Gateway proxy event, http",
            "src/test/resources/foreign-events/kinesis.json, a Kinesis stream event, kinesis",
            "src/test/resources/foreign-events/dynamodb.json, a DynamoDB stream event, dynamodb",
            "src/test/resources/foreign-events/sns.json, an event of source 'aws:sns'," })
    void eachFixtureIsToldByItsShape(String path, String name, String handler) throws Exception {
        assertThat(EventKind.of(MAPPER.readTree(fixture(path)))).isEqualTo(new EventKind(name, handler));
    }

    @Test
    void otherShapesAreNamedByWhatTheyHave() throws Exception {
        assertThat(EventKind.of(MAPPER.readTree("{\"Records\":[{\"EventSource\":\"aws:sns\",\"eventSource\":\"aws:sns\"}]}")))
                .isEqualTo(new EventKind("an event of source 'aws:sns'", null));
        assertThat(EventKind.of(MAPPER.readTree("{}"))).isEqualTo(new EventKind("an empty JSON object", null));
        assertThat(EventKind.of(MAPPER.readTree("{\"detail-type\":\"x\",\"source\":\"y\"}")))
                .isEqualTo(new EventKind("an event with no 'Records' (fields: detail-type, source)", null));
        assertThat(EventKind.of(MAPPER.readTree("[1]"))).isNull();
    }

    SqsFunction.Event sqsEvent(String json) throws Exception {
        return LAMBDA_MAPPER.readValue(json, SqsFunction.Event.class);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "events/http-batch.json | not an SQS event: this looks like an API Gateway proxy event, which QUARKUS_LAMBDA_HANDLER=http serves; this function runs QUARKUS_LAMBDA_HANDLER=sqs (check the trigger wired to it)",
            "events/rest-api-batch.json | not an SQS event: this looks like an API Gateway proxy event, which QUARKUS_LAMBDA_HANDLER=http serves; this function runs QUARKUS_LAMBDA_HANDLER=sqs (check the trigger wired to it)",
            "src/test/resources/foreign-events/kinesis.json | not an SQS event: this looks like a Kinesis stream event, which QUARKUS_LAMBDA_HANDLER=kinesis serves; this function runs QUARKUS_LAMBDA_HANDLER=sqs (check the trigger wired to it)",
            "src/test/resources/foreign-events/dynamodb.json | not an SQS event: this looks like a DynamoDB stream event, which QUARKUS_LAMBDA_HANDLER=dynamodb serves; this function runs QUARKUS_LAMBDA_HANDLER=sqs (check the trigger wired to it)",
            "src/test/resources/foreign-events/sns.json | not an SQS event: this looks like an event of source 'aws:sns', which no Fanout entry point serves; this function runs QUARKUS_LAMBDA_HANDLER=sqs (check the trigger wired to it)" })
    void theSqsEntryPointRefusesEventsOfOtherKinds(String path, String message) throws Exception {
        assertThatThrownBy(() -> SqsFunction.requireSqs(sqsEvent(fixture(path)))).isInstanceOf(WrongEventException.class)
                .hasMessage(message);
    }

    @Test
    void theSqsEntryPointTakesSqsEventsWithAndWithoutRecords() throws Exception {
        SqsFunction.requireSqs(sqsEvent(fixture("events/sqs-standard.json")));
        SqsFunction.requireSqs(sqsEvent(fixture("events/sqs-fifo.json")));
        SqsFunction.Event empty = sqsEvent(fixture("events/sqs-empty.json"));
        SqsFunction.requireSqs(empty);
        assertThat(empty.getRecords()).isEmpty();
        assertThat(sqsEvent(fixture("events/sqs-standard.json")).getRecords()).hasSize(7);
        // records without an eventSource (made by hand, not by Lambda) are taken as SQS records
        SqsFunction.requireSqs(sqsEvent("{\"Records\":[{\"messageId\":\"m\",\"body\":\"{}\"}]}"));
    }

    @Test
    void anEventWithNoRecordsIsRefusedAndNamedByItsFields() {
        assertThatThrownBy(() -> SqsFunction.requireSqs(sqsEvent("{}"))).hasMessage("not an SQS event: this looks like"
                + " an empty JSON object, which no Fanout entry point serves; this function runs QUARKUS_LAMBDA_HANDLER=sqs"
                + " (check the trigger wired to it)");
        assertThatThrownBy(() -> SqsFunction.requireSqs(null)).hasMessageStartingWith("not an SQS event: this looks like no event at all (null), which no");
    }

    /** The records' eventSource values of a fixture, as the events library's record types read them. */
    static java.util.List<String> sources(String path) throws Exception {
        JsonNode records = MAPPER.readTree(fixture(path)).get("Records");
        if (records == null) {
            return null;
        }
        java.util.List<String> sources = new java.util.ArrayList<>();
        records.forEach(record -> sources.add(record.path("eventSource").asText(null)));
        return sources;
    }

    @Test
    void theStreamEntryPointsRefuseOtherKindsAndTakeTheirOwn() throws Exception {
        EventKind.requireRecordsOf(EventKind.KINESIS, sources("events/kinesis-stream.json"), r -> r);
        EventKind.requireRecordsOf(EventKind.DYNAMODB, sources("events/dynamodb-stream.json"), r -> r);
        EventKind.requireRecordsOf(EventKind.KINESIS, java.util.List.<String>of(), r -> r); // Records: [] is a success
        assertThatThrownBy(() -> EventKind.requireRecordsOf(EventKind.KINESIS, sources("events/sqs-standard.json"),
                r -> r)).hasMessage("not a Kinesis stream event: this looks like an SQS event, which"
                        + " QUARKUS_LAMBDA_HANDLER=sqs serves; this function runs QUARKUS_LAMBDA_HANDLER=kinesis (check the"
                        + " trigger wired to it)");
        assertThatThrownBy(() -> EventKind.requireRecordsOf(EventKind.DYNAMODB, sources("events/kinesis-stream.json"),
                r -> r)).hasMessageStartingWith("not a DynamoDB stream event: this looks like a Kinesis"
                        + " stream event, which QUARKUS_LAMBDA_HANDLER=kinesis serves");
        assertThatThrownBy(() -> EventKind.requireRecordsOf(EventKind.DYNAMODB, sources("events/http-batch.json"),
                r -> r)).hasMessageStartingWith("not a DynamoDB stream event: this looks like an event"
                        + " with no 'Records' (an API Gateway request, say), which no Fanout entry point serves");
    }
}
