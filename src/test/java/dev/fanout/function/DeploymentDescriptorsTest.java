package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import jakarta.inject.Named;

/**
 * template.yaml and the README promise settings and wiring; this checks them against the code, so that
 * neither can drift from what the function reads.
 */
class DeploymentDescriptorsTest {

    static final JsonNode TEMPLATE = read();

    static JsonNode read() {
        try {
            return new ObjectMapper(new YAMLFactory()).readTree(Path.of("template.yaml").toFile());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Every property FanoutConfig declares, as {@code fanout.kebab-case.path}. */
    static Set<String> configProperties() {
        Set<String> names = new HashSet<>();
        collect(FanoutConfig.class, "fanout.", names);
        return names;
    }

    static void collect(Class<?> type, String prefix, Set<String> names) {
        for (Method method : type.getDeclaredMethods()) {
            String name = prefix + method.getName().replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase();
            if (method.getReturnType().isInterface() && method.getReturnType().getEnclosingClass() == FanoutConfig.class) {
                collect(method.getReturnType(), name + ".", names);
            } else {
                names.add(name);
            }
        }
    }

    static String propertyOf(String environmentVariable) {
        return environmentVariable.toLowerCase().replace('_', '.');
    }

    /** FANOUT_HTTP_API_CUTOFF_MARGIN could be fanout.http-api.cutoff-margin: compare with dots and dashes folded. */
    static boolean isKnown(String environmentVariable, Set<String> properties) {
        String folded = propertyOf(environmentVariable);
        return properties.stream().anyMatch(p -> p.replace('-', '.').equals(folded));
    }

    @Test
    void theSqsEventSourceReportsBatchItemFailuresAndTheQueueHasADeadLetterQueue() {
        JsonNode work = TEMPLATE.at("/Resources/SqsFunction/Properties/Events/Work/Properties");
        assertThat(work.get("FunctionResponseTypes")).extracting(JsonNode::asText).containsExactly("ReportBatchItemFailures");
        assertThat(TEMPLATE.at("/Resources/WorkQueue/Properties/RedrivePolicy/deadLetterTargetArn").toString())
                .contains("WorkDeadLetterQueue");
        int timeout = TEMPLATE.at("/Parameters/SqsFunctionTimeout/Default").asInt();
        int visibility = TEMPLATE.at("/Parameters/WorkVisibilityTimeout/Default").asInt();
        assertThat(visibility).as("AWS: visibility timeout at least six times the function timeout").isGreaterThanOrEqualTo(6 * timeout);
        assertThat(TEMPLATE.at("/Resources/SqsFunction/Properties/Policies/0/Statement/0/Action").asText())
                .isEqualTo("sqs:SendMessage");
    }

    @Test
    void theHttpFunctionMaySendToTheWorkQueueAloneAndKnowsItsUrl() {
        JsonNode statements = TEMPLATE.at("/Resources/HttpFunction/Properties/Policies/0/Statement");
        assertThat(statements).hasSize(1);
        assertThat(statements.get(0).get("Action").asText()).isEqualTo("sqs:SendMessage");
        assertThat(statements.get(0).get("Resource").toString()).isEqualTo("\"WorkQueue.Arn\"");
        assertThat(TEMPLATE.at("/Resources/HttpFunction/Properties/Policies")).hasSize(1);
        assertThat(TEMPLATE.at("/Resources/HttpFunction/Properties/Environment/Variables/WORK_QUEUE_URL").toString())
                .isEqualTo("\"WorkQueue\"");
    }

    @Test
    void theEntryPointsTheTemplateNamesExist() {
        assertThat(TEMPLATE.at("/Resources/SqsFunction/Properties/Environment/Variables/QUARKUS_LAMBDA_HANDLER").asText())
                .isEqualTo(SqsFunction.class.getAnnotation(Named.class).value());
        assertThat(TEMPLATE.at("/Resources/HttpFunction/Properties/Environment/Variables/QUARKUS_LAMBDA_HANDLER").asText())
                .isEqualTo(HttpFunction.class.getAnnotation(Named.class).value());
        assertThat(TEMPLATE.at("/Globals/Function/Handler").toString())
                .contains("io.quarkus.amazon.lambda.runtime.QuarkusStreamHandler::handleRequest");
        assertThat(TEMPLATE.at("/Globals/Function/CodeUri").asText()).isEqualTo("target/function.zip");
    }

    @Test
    void everyFanoutVariableTheTemplateSetsIsASetting() {
        Set<String> properties = configProperties();
        List<JsonNode> variableBlocks = List.of(TEMPLATE.at("/Globals/Function/Environment/Variables"),
                TEMPLATE.at("/Resources/SqsFunction/Properties/Environment/Variables"),
                TEMPLATE.at("/Resources/HttpFunction/Properties/Environment/Variables"));
        int checked = 0;
        for (JsonNode block : variableBlocks) {
            for (var names = block.fieldNames(); names.hasNext();) {
                String variable = names.next();
                if (variable.startsWith("FANOUT_")) {
                    assertThat(isKnown(variable, properties)).as("%s is a FanoutConfig property", variable).isTrue();
                    checked++;
                }
            }
        }
        assertThat(checked).isGreaterThanOrEqualTo(4);
    }

    @Test
    void everySettingTheReadmeDocumentsExists() throws Exception {
        Set<String> properties = configProperties();
        String readme = Files.readString(Path.of("README.md"));
        Matcher m = Pattern.compile("\\| `(fanout\\.[a-z.-]+)`").matcher(readme);
        int checked = 0;
        while (m.find()) {
            assertThat(properties).as("README documents %s", m.group(1)).contains(m.group(1));
            checked++;
        }
        Matcher env = Pattern.compile("`(FANOUT_[A-Z_]+)`").matcher(readme);
        while (env.find()) {
            assertThat(isKnown(env.group(1), properties)).as("README names %s", env.group(1)).isTrue();
        }
        assertThat(checked).isGreaterThan(15);
    }

    @Test
    void theFunctionsAreTracedAndTheirLogsAreJson() {
        assertThat(TEMPLATE.at("/Globals/Function/Tracing").asText()).isEqualTo("Active");
        assertThat(TEMPLATE.at("/Globals/Function/LoggingConfig/LogFormat").asText()).isEqualTo("JSON");
    }

    @Test
    void theAlarmsWatchMetricsTheFunctionWrites() {
        Set<String> alarmed = new HashSet<>();
        for (var resources = TEMPLATE.get("Resources").properties().iterator(); resources.hasNext();) {
            var resource = resources.next();
            JsonNode properties = resource.getValue().get("Properties");
            if (!resource.getValue().get("Type").asText().equals("AWS::CloudWatch::Alarm")
                    || !InvocationMetrics.NAMESPACE.equals(properties.path("Namespace").asText())) {
                continue;
            }
            String metric = properties.get("MetricName").asText();
            assertThat(InvocationMetrics.unit(metric)).as("%s: %s is a metric InvocationMetrics declares", resource.getKey(), metric)
                    .isNotNull();
            assertThat(properties.get("Dimensions")).extracting(d -> d.get("Name").asText())
                    .containsExactly(InvocationMetrics.FUNCTION_NAME, InvocationMetrics.ENTRY_POINT);
            assertThat(properties.at("/Dimensions/1/Value").asText()).isEqualTo(SqsFunction.class.getAnnotation(Named.class).value());
            alarmed.add(metric);
        }
        assertThat(alarmed).containsExactlyInAnyOrder("timedOut", "timeLeftMs", "batchItemFailures");
    }

    @Test
    void theDashboardShowsMetricsTheFunctionWrites() throws Exception {
        JsonNode dashboard = TEMPLATE.at("/Resources/FanoutDashboard/Properties");
        String body = dashboard.at("/DashboardBody/0").asText();
        JsonNode widgets = new ObjectMapper().readTree(body.replaceAll("\\$\\{[A-Za-z:]+}", "x")).get("widgets");
        Set<String> shown = new HashSet<>();
        for (JsonNode widget : widgets) {
            String namespace = null;
            for (JsonNode line : widget.at("/properties/metrics")) {
                if (line.get(0).isObject()) {
                    assertThat(line.get(0).get("expression").asText()).contains("{Fanout,", InvocationMetrics.TYPE_FAILURES.replace(".", ""));
                    continue;
                }
                namespace = line.get(0).asText().equals(".") ? namespace : line.get(0).asText();
                assertThat(namespace).isEqualTo(InvocationMetrics.NAMESPACE);
                assertThat(InvocationMetrics.unit(line.get(1).asText())).as(line.get(1).asText()).isNotNull();
                shown.add(line.get(1).asText());
            }
        }
        assertThat(shown).contains("succeeded", "failed", "rejected", "timedOut", "notStarted", "batchItemFailures",
                "delivered", "sendRequests", "sendRetries", "throttled", "engineMs", "fanInMs", "timeLeftMs",
                "peakConcurrency", "answers2xx", "answers4xx", "answers5xx");
    }

    @Test
    void cfnLintFindsNothing() throws Exception {
        Process lint;
        try {
            lint = new ProcessBuilder("cfn-lint", "template.yaml").redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            throw new AssertionError("cfn-lint is not installed (pip install cfn-lint): infra/lint.sh needs it too", e);
        }
        String output = new String(lint.getInputStream().readAllBytes());
        assertThat(lint.waitFor()).as(output).isZero();
    }
}
