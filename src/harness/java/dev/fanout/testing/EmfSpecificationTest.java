package dev.fanout.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/** The checks catch each rule's breach (so a clean result of them means something). */
class EmfSpecificationTest {

    static final String VALID = "{\"_aws\":{\"Timestamp\":1764480000000,\"CloudWatchMetrics\":[{\"Namespace\":\"Fanout\","
            + "\"Dimensions\":[[\"FunctionName\"]],\"Metrics\":[{\"Name\":\"records\",\"Unit\":\"Count\"}]}]},"
            + "\"FunctionName\":\"f\",\"records\":3}";

    @Test
    void aValidEventHasNoViolations() {
        assertThat(EmfSpecification.violations(VALID)).isEmpty();
        assertThat(EmfSpecification.violations(VALID.replace("\"records\":3", "\"records\":[1,2]"))).isEmpty();
    }

    @Test
    void eachBreachIsReported() {
        assertThat(EmfSpecification.violations("INFO " + VALID)).singleElement().asString().startsWith("not one JSON value alone");
        assertThat(EmfSpecification.violations(VALID + " trailing")).singleElement().asString().startsWith("not one JSON value alone");
        assertThat(EmfSpecification.violations("[1]")).containsExactly("the log event is not a JSON object");
        assertThat(EmfSpecification.violations("{\"records\":3}")).containsExactly("no _aws object at the root");
        assertThat(EmfSpecification.violations(VALID.replace("1764480000000", "\"now\"")))
                .containsExactly("_aws.Timestamp is not a positive number of milliseconds: \"now\"");
        assertThat(EmfSpecification.violations(VALID.replace("\"Namespace\":\"Fanout\"", "\"Namespace\":\" \"")))
                .containsExactly("Namespace is not a non-empty string: \" \"");
        assertThat(EmfSpecification.violations(VALID.replace("\"FunctionName\":\"f\"", "\"FunctionName\":7")))
                .containsExactly("dimension \"FunctionName\" has no non-empty string value at the root: 7");
        assertThat(EmfSpecification.violations(VALID.replace("\"records\":3", "\"records\":\"3\"")))
                .containsExactly("metric \"records\" has no number (or array of at most 100 numbers) at the root: \"3\"");
        assertThat(EmfSpecification.violations(VALID.replace("\"Unit\":\"Count\"", "\"Unit\":\"Records\"")))
                .containsExactly("metric \"records\" has an unknown unit \"Records\"");
        assertThat(EmfSpecification.violations(VALID.replace("\"Namespace\":\"Fanout\",", "\"Namespace\":\"Fanout\",\"Extra\":1,")))
                .containsExactly("a metric directive has a member the specification does not define: Extra");
        assertThat(EmfSpecification.violations(VALID.replace("\"Unit\":\"Count\"}", "\"Unit\":\"Count\"},{\"Name\":\"records\"}")))
                .containsExactly("metric \"records\" is declared twice");
    }

    @Test
    void theLimitsOfThirtyDimensionsAndAHundredMetrics() {
        String dimensions = IntStream.range(0, 31).mapToObj(i -> "\"d" + i + "\"").collect(Collectors.joining(","));
        String dimensionValues = IntStream.range(0, 31).mapToObj(i -> "\"d" + i + "\":\"v\"").collect(Collectors.joining(","));
        String wide = VALID.replace("[[\"FunctionName\"]]", "[[" + dimensions + "]]").replace("\"records\":3",
                "\"records\":3," + dimensionValues);
        assertThat(EmfSpecification.violations(wide)).containsExactly("a dimension set has 31 keys, more than 30");

        String metrics = IntStream.range(0, 101).mapToObj(i -> "{\"Name\":\"m" + i + "\"}").collect(Collectors.joining(","));
        String values = IntStream.range(0, 101).mapToObj(i -> "\"m" + i + "\":1").collect(Collectors.joining(","));
        String many = VALID.replace("[{\"Name\":\"records\",\"Unit\":\"Count\"}]", "[" + metrics + "]")
                .replace("\"records\":3", values);
        assertThat(EmfSpecification.violations(many)).containsExactly("101 metric definitions, more than 100");
    }
}
