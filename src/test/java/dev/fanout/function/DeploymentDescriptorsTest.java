package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import jakarta.inject.Named;

import dev.fanout.batch.SummaryFigures;

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
    void theSqsFunctionMayChangeVisibilityOnTheWorkQueueAlone() {
        JsonNode statements = TEMPLATE.at("/Resources/SqsFunction/Properties/Policies/0/Statement");
        assertThat(statements).hasSize(2);
        assertThat(statements.get(0).get("Resource").toString()).isEqualTo("\"ResultsQueue.Arn\"");
        assertThat(statements.get(1).get("Action").asText()).isEqualTo("sqs:ChangeMessageVisibility");
        assertThat(statements.get(1).get("Resource").toString()).isEqualTo("\"WorkQueue.Arn\"");
        // the second statement list: the idempotency table, only when a function is idempotent
        assertThat(TEMPLATE.at("/Resources/SqsFunction/Properties/Policies")).hasSize(2);
        assertThat(TEMPLATE.at("/Resources/SqsFunction/Properties/Policies/1/0").asText()).isEqualTo("HasIdempotency");
    }

    @Test
    void theHttpFunctionMaySendToTheWorkQueueAloneAndKnowsItsUrl() {
        JsonNode statements = TEMPLATE.at("/Resources/HttpFunction/Properties/Policies/0/Statement");
        assertThat(statements).hasSize(1);
        assertThat(statements.get(0).get("Action").asText()).isEqualTo("sqs:SendMessage");
        assertThat(statements.get(0).get("Resource").toString()).isEqualTo("\"WorkQueue.Arn\"");
        assertThat(TEMPLATE.at("/Resources/HttpFunction/Properties/Policies")).hasSize(2);
        assertThat(TEMPLATE.at("/Resources/HttpFunction/Properties/Policies/1/0").asText()).isEqualTo("HasIdempotency");
        assertThat(TEMPLATE.at("/Resources/HttpFunction/Properties/Environment/Variables/WORK_QUEUE_URL").toString())
                .isEqualTo("\"WorkQueue\"");
    }

    @Nested
    class Idempotency {

        @Test
        void theTableIsOnDemandWithTtlOnTheExpiryAndPointInTimeRecoveryAndExistsOnlyWhenAsked() {
            JsonNode table = TEMPLATE.at("/Resources/IdempotencyTable");
            assertThat(table.get("Type").asText()).isEqualTo("AWS::DynamoDB::Table");
            assertThat(table.get("Condition").asText()).isEqualTo("HasIdempotency");
            JsonNode properties = table.get("Properties");
            assertThat(properties.get("BillingMode").asText()).isEqualTo("PAY_PER_REQUEST");
            assertThat(properties.at("/KeySchema").toString()).isEqualTo("[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"}]");
            assertThat(properties.at("/AttributeDefinitions").toString())
                    .isEqualTo("[{\"AttributeName\":\"id\",\"AttributeType\":\"S\"}]");
            assertThat(properties.at("/TimeToLiveSpecification").toString())
                    .isEqualTo("{\"AttributeName\":\"expiresAt\",\"Enabled\":true}");
            assertThat(properties.at("/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled").asBoolean()).isTrue();
            assertThat(TEMPLATE.at("/Parameters/Idempotency/Default").asText()).isEqualTo("off");
            assertThat(TEMPLATE.at("/Conditions/HasIdempotency").toString())
                    .isEqualTo("[[\"Idempotency\",\"on\"],\"HasIdempotentFunctions\"]"); // the YAML reader drops !Or's tag
        }

        @Test
        void bothFunctionsMayReadWriteAndDeleteTheTablesItemsAndNothingElseOnlyWhenItExists() {
            for (String function : List.of("SqsFunction", "HttpFunction")) {
                JsonNode policy = TEMPLATE.at("/Resources/" + function + "/Properties/Policies/1");
                assertThat(policy.get(0).asText()).as(function).isEqualTo("HasIdempotency");
                assertThat(policy.get(2).toString()).as(function).isEqualTo("\"AWS::NoValue\"");
                JsonNode statements = policy.at("/1/Statement");
                assertThat(statements).as(function).hasSize(1);
                assertThat(statements.get(0).get("Action").toString()).as(function)
                        .isEqualTo("[\"dynamodb:GetItem\",\"dynamodb:PutItem\",\"dynamodb:DeleteItem\"]");
                assertThat(statements.get(0).get("Resource").toString()).as(function).isEqualTo("\"IdempotencyTable.Arn\"");
            }
        }

        @Test
        void theFunctionsLearnTheTableAndTheNamedFunctionsOnlyWhenThereAreAny() {
            JsonNode variables = TEMPLATE.at("/Globals/Function/Environment/Variables");
            assertThat(variables.get("FANOUT_IDEMPOTENCY_TABLE").toString())
                    .isEqualTo("[\"HasIdempotency\",\"IdempotencyTable\",\"AWS::NoValue\"]");
            assertThat(variables.get("FANOUT_IDEMPOTENCY_FUNCTIONS").toString())
                    .isEqualTo("[\"HasIdempotentFunctions\",\"IdempotentFunctions\",\"AWS::NoValue\"]");
        }
    }

    @Test
    void theEntryPointsTheTemplateNamesExist() {
        assertThat(TEMPLATE.at("/Resources/SqsFunction/Properties/Environment/Variables/QUARKUS_LAMBDA_HANDLER").asText())
                .isEqualTo(SqsFunction.class.getAnnotation(Named.class).value());
        assertThat(TEMPLATE.at("/Resources/HttpFunction/Properties/Environment/Variables/QUARKUS_LAMBDA_HANDLER").asText())
                .isEqualTo(HttpFunction.class.getAnnotation(Named.class).value());
        assertThat(TEMPLATE.at("/Resources/KinesisFunction/Properties/Environment/Variables/QUARKUS_LAMBDA_HANDLER").asText())
                .isEqualTo(KinesisFunction.class.getAnnotation(Named.class).value());
        assertThat(TEMPLATE.at("/Resources/DynamodbFunction/Properties/Environment/Variables/QUARKUS_LAMBDA_HANDLER").asText())
                .isEqualTo(DynamodbFunction.class.getAnnotation(Named.class).value());
        assertThat(TEMPLATE.at("/Globals/Function/Handler").toString())
                .contains("dev.fanout.function.FanoutStreamHandler::handleRequest");
        assertThat(TEMPLATE.at("/Globals/Function/CodeUri").asText()).isEqualTo(".");
    }

    @Test
    void everyFanoutVariableTheTemplateSetsIsASetting() {
        Set<String> properties = configProperties();
        List<JsonNode> variableBlocks = List.of(TEMPLATE.at("/Globals/Function/Environment/Variables"),
                TEMPLATE.at("/Resources/SqsFunction/Properties/Environment/Variables"),
                TEMPLATE.at("/Resources/HttpFunction/Properties/Environment/Variables"),
                TEMPLATE.at("/Resources/KinesisFunction/Properties/Environment/Variables"),
                TEMPLATE.at("/Resources/DynamodbFunction/Properties/Environment/Variables"));
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
        assertThat(checked).isGreaterThanOrEqualTo(7);
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
    void everySettingOfTheMappingIsInTheReadmesTable() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        Set<String> documented = new HashSet<>();
        Matcher row = Pattern.compile("(?m)^\\| `(fanout\\.[a-z.-]+)`(?: / `([a-z.-]+)`)?").matcher(readme);
        while (row.find()) {
            documented.add(row.group(1));
            if (row.group(2) != null) { // `fanout.results.backoff-base` / `backoff-cap`
                documented.add(row.group(1).substring(0, row.group(1).lastIndexOf('.') + 1) + row.group(2));
            }
        }
        Set<String> missing = new java.util.TreeSet<>(configProperties());
        missing.removeAll(documented);
        assertThat(missing).as("settings of FanoutConfig missing from the README's table").isEmpty();
    }

    @Test
    void theReadmeIsShort() throws Exception {
        assertThat(Files.readAllLines(Path.of("README.md"))).as("README lines (details belong in docs/)").hasSizeLessThanOrEqualTo(250);
    }

    /** Runs a command in the project directory with the given environment only; its exit code and output. */
    record Run(int exitCode, String output) {
    }

    static Run run(Map<String, String> env, String... command) throws Exception {
        var builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().clear();
        builder.environment().putAll(env);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(process.exitValue(), output);
    }

    static final String SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin";

    /** A zip holding the named (empty) entries. */
    static Path zipOf(Path dir, String name, String... entries) throws Exception {
        Path zip = dir.resolve(name);
        try (var out = new ZipOutputStream(Files.newOutputStream(zip))) {
            for (String entry : entries) {
                out.putNextEntry(new ZipEntry(entry));
                out.closeEntry();
            }
        }
        return zip;
    }

    @Nested
    class Native {

        @Test
        void theNativeVariantDisablesSignalHandlersAndRunsOnProvidedAl2023() {
            assertThat(TEMPLATE.at("/Globals/Function/Environment/Variables/DISABLE_SIGNAL_HANDLERS").toString())
                    .isEqualTo("[\"IsNative\",\"true\",\"AWS::NoValue\"]");
            assertThat(TEMPLATE.at("/Globals/Function/Runtime").toString())
                    .isEqualTo("[\"IsNative\",\"provided.al2023\",\"java25\"]");
        }

        @Test
        void aNativeBuildWithNeitherGraalVmNorAContainerRuntimeSaysWhatIsMissingAndHowToGetIt(@TempDir Path empty)
                throws Exception {
            Run run = run(Map.of("PATH", empty.toString()), "/bin/bash", "infra/native-preflight.sh", "${quarkus.native.container-build}");

            assertThat(run.exitCode()).isEqualTo(1);
            assertThat(run.output()).startsWith("A native build (-Dnative) needs GraalVM/Mandrel or a container runtime,"
                    + " and this machine has neither:\n  - no native-image in $GRAALVM_HOME/bin (unset), $JAVA_HOME/bin (unset)"
                    + " or on PATH\n  - no docker or podman on PATH\nGet one of them:\n  - Mandrel for JDK 25")
                    .contains("export GRAALVM_HOME=", "Docker (https://docs.docker.com/engine/install/)",
                            "quay.io/quarkus/ubi9-quarkus-mandrel-builder-image:jdk-25");
        }

        @Test
        void aLocalGraalVmOrAContainerRuntimeLetsTheNativeBuildGoOn(@TempDir Path dir) throws Exception {
            Path bin = Files.createDirectories(dir.resolve("graalvm/bin"));
            Path nativeImage = Files.writeString(bin.resolve("native-image"), "#!/bin/sh\n");
            nativeImage.toFile().setExecutable(true);
            Path tools = Files.createDirectories(dir.resolve("tools"));
            Files.writeString(tools.resolve("podman"), "#!/bin/sh\n").toFile().setExecutable(true);

            Run graal = run(Map.of("PATH", SYSTEM_PATH, "GRAALVM_HOME", dir.resolve("graalvm").toString()),
                    "/bin/bash", "infra/native-preflight.sh", "");
            Run podman = run(Map.of("PATH", tools.toString()), "/bin/bash", "infra/native-preflight.sh", "");
            Run forcedContainerWithoutRuntime = run(Map.of("PATH", Files.createDirectories(dir.resolve("none")).toString(), "GRAALVM_HOME",
                    dir.resolve("graalvm").toString()), "/bin/bash", "infra/native-preflight.sh", "true");

            assertThat(graal).isEqualTo(new Run(0, "native build: local native-image in " + dir.resolve("graalvm") + "\n"));
            assertThat(podman).isEqualTo(new Run(0, "native build: no local GraalVM; Quarkus builds in a container with podman\n"));
            assertThat(forcedContainerWithoutRuntime.exitCode()).isEqualTo(1);
            assertThat(forcedContainerWithoutRuntime.output()).contains("  - no docker or podman on PATH")
                    .doesNotContain("no native-image");
        }
    }

    @Nested
    class SnapStart {

        @Test
        void theJvmFlavourSnapshotsPublishedVersionsBehindAnAlias() {
            assertThat(TEMPLATE.at("/Globals/Function/SnapStart/ApplyOn").toString())
                    .isEqualTo("[\"IsNative\",\"None\",\"PublishedVersions\"]");
            // with AutoPublishAlias, SAM points the SQS event source and the API's integration at the alias
            assertThat(TEMPLATE.at("/Globals/Function/AutoPublishAlias").asText()).isEqualTo("live");
            assertThat(TEMPLATE.at("/Resources/SqsFunction/Properties/AutoPublishAlias").isMissingNode()).isTrue();
        }

        @Test
        void tieredCompilationIsLeftToLambdasJava25Runtime() {
            // C1 only on an on-demand start, full tiering under SnapStart (AWS's java-customization page): a
            // TieredStopAtLevel here would override the SnapStart case too
            assertThat(TEMPLATE.at("/Globals/Function/Environment/Variables/JAVA_TOOL_OPTIONS").toString()).isEqualTo(
                    "[\"IsNative\",\"AWS::NoValue\",\"--add-opens java.base/java.lang=ALL-UNNAMED --enable-native-access=ALL-UNNAMED\"]");
        }
    }

    @Nested
    class Fifo {

        @Test
        void oneParameterMakesTheWorkDeadLetterAndResultsQueuesFifo() {
            assertThat(TEMPLATE.at("/Parameters/QueueType/AllowedValues").toString()).isEqualTo("[\"standard\",\"fifo\"]");
            for (String queue : List.of("WorkQueue", "WorkDeadLetterQueue", "ResultsQueue")) {
                JsonNode properties = TEMPLATE.at("/Resources/" + queue + "/Properties");
                assertThat(properties.get("FifoQueue").toString()).as(queue)
                        .isEqualTo("[\"IsFifo\",true,\"AWS::NoValue\"]");
                // the function treats a results queue URL ending in .fifo as FIFO: the name must end so
                assertThat(properties.get("QueueName").toString()).as(queue).contains(".fifo");
            }
            JsonNode work = TEMPLATE.at("/Resources/SqsFunction/Properties/Events/Work/Properties");
            assertThat(work.get("BatchSize").toString()).isEqualTo("[\"IsFifo\",10,\"BatchSize\"]");
            assertThat(work.get("MaximumBatchingWindowInSeconds").toString())
                    .isEqualTo("[\"IsFifo\",\"AWS::NoValue\",1]");
        }

        @Test
        void queuesAndLogGroupsSayWhatHappensToThemOnDeleteAndReplace() {
            for (String resource : List.of("WorkQueue", "WorkDeadLetterQueue", "ResultsQueue", "SqsFunctionLogs",
                    "HttpFunctionLogs", "WorkStream", "StreamFailureQueue", "KinesisFunctionLogs", "DynamodbFunctionLogs",
                    "IdempotencyTable")) {
                assertThat(TEMPLATE.at("/Resources/" + resource + "/DeletionPolicy").asText()).as(resource).isEqualTo("Delete");
                assertThat(TEMPLATE.at("/Resources/" + resource + "/UpdateReplacePolicy").asText()).as(resource).isEqualTo("Delete");
            }
        }

        @Test
        void cfnLintIsCleanIncludingItsInformationalRules() throws Exception {
            Run lint = run(Map.of("PATH", System.getenv().getOrDefault("PATH", SYSTEM_PATH), "HOME",
                    System.getProperty("java.io.tmpdir")), "cfn-lint", "--include-checks", "I", "--", "template.yaml");

            assertThat(lint).isEqualTo(new Run(0, ""));
        }
    }

    @Nested
    class Streams {

        @Test
        void bothMappingsReportBatchItemFailuresBisectRetryAgeAndFailToTheQueue() {
            for (String mapping : List.of("KinesisEventSource", "DynamodbEventSource")) {
                JsonNode p = TEMPLATE.at("/Resources/" + mapping + "/Properties");
                assertThat(p.get("FunctionResponseTypes")).as(mapping).extracting(JsonNode::asText)
                        .containsExactly("ReportBatchItemFailures");
                assertThat(p.get("BisectBatchOnFunctionError").asBoolean()).as(mapping).isTrue();
                assertThat(p.get("MaximumRetryAttempts").toString()).as(mapping).isEqualTo("\"StreamMaximumRetryAttempts\"");
                assertThat(p.get("MaximumRecordAgeInSeconds").toString()).as(mapping).isEqualTo("\"StreamMaximumRecordAge\"");
                assertThat(p.get("ParallelizationFactor").toString()).as(mapping).isEqualTo("\"ParallelizationFactor\"");
                assertThat(p.at("/DestinationConfig/OnFailure/Destination").toString()).as(mapping)
                        .isEqualTo("\"StreamFailureQueue.Arn\"");
            }
            assertThat(TEMPLATE.at("/Resources/KinesisEventSource/Properties/FunctionName").toString())
                    .isEqualTo("\"KinesisFunctionAliaslive\"");
            assertThat(TEMPLATE.at("/Resources/DynamodbEventSource/Properties/EventSourceArn").toString())
                    .isEqualTo("\"ItemsTable.StreamArn\"");
            // Lambda's limits: 1..10 batches per shard; -1 or 60 s up to a week
            assertThat(TEMPLATE.at("/Parameters/ParallelizationFactor/MaxValue").asInt()).isEqualTo(10);
            assertThat(TEMPLATE.at("/Parameters/StreamMaximumRecordAge/MaxValue").asInt()).isEqualTo(604800);
        }

        @Test
        void theStreamIsOnDemandAndTheTablesStreamHasBothImagesBehindTheirConditions() {
            assertThat(TEMPLATE.at("/Resources/WorkStream/Properties/StreamModeDetails/StreamMode").asText())
                    .isEqualTo("ON_DEMAND");
            assertThat(TEMPLATE.at("/Resources/ItemsTable/Properties/StreamSpecification/StreamViewType").asText())
                    .isEqualTo("NEW_AND_OLD_IMAGES");
            for (String resource : List.of("WorkStream", "KinesisFunction", "KinesisEventSource", "KinesisFunctionLogs")) {
                assertThat(TEMPLATE.at("/Resources/" + resource + "/Condition").asText()).as(resource).isEqualTo("HasKinesis");
            }
            for (String resource : List.of("ItemsTable", "DynamodbFunction", "DynamodbEventSource", "DynamodbFunctionLogs")) {
                assertThat(TEMPLATE.at("/Resources/" + resource + "/Condition").asText()).as(resource).isEqualTo("HasDynamodb");
            }
            assertThat(TEMPLATE.at("/Parameters/StreamSources/AllowedValues")).extracting(JsonNode::asText)
                    .containsExactly("none", "kinesis", "dynamodb", "both");
            // a deployer who uses no stream pays for none: an on-demand stream is billed per hour while idle
            assertThat(TEMPLATE.at("/Parameters/StreamSources/Default").asText()).isEqualTo("none");
        }

        @Test
        void eachStreamFunctionMayReadItsOwnStreamAndSendToTheTwoQueuesAndNothingElse() throws Exception {
            assertThat(statements("KinesisFunction")).containsExactly(
                    "SendResults sqs:SendMessage ResultsQueue.Arn",
                    "ReadTheStream kinesis:DescribeStream,kinesis:DescribeStreamSummary,kinesis:GetRecords,"
                            + "kinesis:GetShardIterator,kinesis:ListShards WorkStream.Arn",
                    "SendFailedBatches sqs:SendMessage StreamFailureQueue.Arn");
            assertThat(statements("DynamodbFunction")).containsExactly(
                    "SendResults sqs:SendMessage ResultsQueue.Arn",
                    "ReadTheStream dynamodb:DescribeStream,dynamodb:GetRecords,dynamodb:GetShardIterator ItemsTable.StreamArn",
                    "ListStreams dynamodb:ListStreams *",
                    "SendFailedBatches sqs:SendMessage StreamFailureQueue.Arn");
            // no SAM event on them: SAM would attach AWS's managed execution roles, which read every stream
            Run translate = run(Map.of("PATH", System.getenv().getOrDefault("PATH", SYSTEM_PATH)),
                    "python3", "infra/sam-translate.py", "template.yaml", "StreamSources=both");
            assertThat(translate.exitCode()).as(translate.output()).isZero();
            JsonNode resources = new ObjectMapper().readTree(translate.output()).get("Resources");
            for (String role : List.of("KinesisFunctionRole", "DynamodbFunctionRole")) {
                assertThat(resources.at("/" + role + "/Properties/ManagedPolicyArns")).as(role)
                        .extracting(JsonNode::asText).containsExactly(
                                "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                                "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess");
            }
        }

        /** A function's inline statements as "Sid actions resource". */
        static List<String> statements(String function) {
            JsonNode policies = TEMPLATE.at("/Resources/" + function + "/Properties/Policies");
            // the unconditional statements, then the idempotency table's, only when a function is idempotent
            assertThat(policies).hasSize(2);
            assertThat(policies.at("/1/0").asText()).isEqualTo("HasIdempotency");
            List<String> statements = new java.util.ArrayList<>();
            for (JsonNode statement : policies.get(0).get("Statement")) {
                assertThat(statement.get("Effect").asText()).isEqualTo("Allow");
                JsonNode action = statement.get("Action");
                List<String> names = new java.util.ArrayList<>();
                if (action.isArray()) {
                    action.forEach(a -> names.add(a.asText()));
                } else {
                    names.add(action.asText());
                }
                String actions = String.join(",", names);
                JsonNode resource = statement.get("Resource");
                statements.add(statement.get("Sid").asText() + " " + actions + " "
                        + (resource.isTextual() ? resource.asText() : resource.toString().replace("\"", "")));
            }
            return statements;
        }
    }

    @Nested
    class SamPath {

        static final Map<String, String> MAKE_ENV = Map.of("PATH", SYSTEM_PATH);

        @Test
        void bothFunctionsAreBuiltByTheMakefileForEitherFlavour(@TempDir Path artifacts) throws Exception {
            for (String function : List.of("SqsFunction", "HttpFunction", "KinesisFunction", "DynamodbFunction")) {
                assertThat(TEMPLATE.at("/Resources/" + function + "/Metadata/BuildMethod").asText()).isEqualTo("makefile");
                assertThat(run(MAKE_ENV, "make", "-n", "-B", "build-" + function, "ARTIFACTS_DIR=" + artifacts).exitCode())
                        .as(function).isZero();
            }
            Run jvm = run(MAKE_ENV, "make", "-n", "-B", "build-SqsFunction", "ARTIFACTS_DIR=" + artifacts);
            Run nativeBuild = run(MAKE_ENV, "make", "-n", "-B", "build-HttpFunction", "ARTIFACTS_DIR=" + artifacts,
                    "PACKAGING=native");
            Run wrong = run(MAKE_ENV, "make", "-n", "build-SqsFunction", "PACKAGING=graal");

            assertThat(jvm.output().lines().toList()).containsExactly("./mvnw -B package -DskipTests -DskipITs",
                    "rm -f target/function-*.built", "touch target/function-jvm.built",
                    "infra/check-artifact.sh jvm target/function.zip", "unzip -q -o target/function.zip -d \"" + artifacts + "\"");
            assertThat(nativeBuild.output().lines().toList()).containsExactly(
                    "./mvnw -B package -DskipTests -Dnative -Dquarkus.native.container-build=true",
                    "rm -f target/function-*.built", "touch target/function-native.built",
                    "infra/check-artifact.sh native target/function.zip", "unzip -q -o target/function.zip -d \"" + artifacts + "\"");
            assertThat(wrong.exitCode()).isEqualTo(2);
            assertThat(wrong.output()).contains("PACKAGING must be jvm or native, not 'graal'");
        }

        @Test
        void deployRefusesAnArtifactThatDoesNotMatchItsPackagingBeforeSamRuns(@TempDir Path dir) throws Exception {
            Path jvmZip = zipOf(dir, "jvm.zip", "lib/", "lib/x.jar", "dev/fanout/function/FanoutStreamHandler.class");
            Path nativeZip = zipOf(dir, "native.zip", "bootstrap");
            // a sam that leaves a mark: the refusal must come before it
            Path tools = Files.createDirectories(dir.resolve("tools"));
            Path samCalled = dir.resolve("sam-called");
            Files.writeString(tools.resolve("sam"), "#!/bin/sh\ntouch " + samCalled + "\n").toFile().setExecutable(true);
            String path = tools + ":" + SYSTEM_PATH;

            Run nativeStackJvmZip = run(Map.of("PATH", path, "SKIP_BUILD", "1", "FUNCTION_ZIP", jvmZip.toString()),
                    "/bin/bash", "infra/deploy.sh", "native");
            Run jvmStackNativeZip = run(Map.of("PATH", path, "SKIP_BUILD", "1", "FUNCTION_ZIP", nativeZip.toString()),
                    "/bin/bash", "infra/deploy.sh");

            assertThat(nativeStackJvmZip).isEqualTo(new Run(4, "refusing to deploy: Packaging=native, but " + jvmZip
                    + " holds no bootstrap (it is a JVM build).\nBuild it with ./mvnw package -Dnative, or deploy with Packaging=jvm.\n"));
            assertThat(jvmStackNativeZip.exitCode()).isEqualTo(4);
            assertThat(jvmStackNativeZip.output()).startsWith("refusing to deploy: Packaging=jvm, but " + nativeZip);
            assertThat(samCalled).doesNotExist();

            Run matching = run(Map.of("PATH", path, "SKIP_BUILD", "1", "FUNCTION_ZIP", nativeZip.toString()),
                    "/bin/bash", "infra/deploy.sh", "native");
            assertThat(matching.output()).startsWith(nativeZip + " is a native build\n");
            assertThat(matching.exitCode()).isZero();
            assertThat(samCalled).exists();
        }

        @Test
        void samconfigAndTheLocalEnvironmentFileNameTheTemplatesFunctionsAndFlavours() throws Exception {
            Run config = run(Map.of("PATH", SYSTEM_PATH), "python3", "-c", "import tomllib, json; "
                    + "c = tomllib.load(open('samconfig.toml', 'rb')); print(json.dumps(c))");
            assertThat(config.exitCode()).as(config.output()).isZero();
            JsonNode samconfig = new ObjectMapper().readTree(config.output());
            assertThat(samconfig.at("/default/global/parameters/stack_name").asText()).isEqualTo("fanout");
            assertThat(samconfig.at("/default/deploy/parameters/parameter_overrides").asText()).contains("Packaging=jvm");
            assertThat(samconfig.at("/native/deploy/parameters/parameter_overrides").asText()).contains("Packaging=native");
            assertThat(samconfig.at("/default/deploy/parameters/capabilities").asText()).isEqualTo("CAPABILITY_IAM");
            String envFile = samconfig.at("/default/local_invoke/parameters/env_vars").asText();
            JsonNode env = new ObjectMapper().readTree(Path.of(envFile).toFile());
            assertThat(env.fieldNames()).toIterable().containsExactlyInAnyOrder("SqsFunction", "HttpFunction", "KinesisFunction",
                    "DynamodbFunction");
            Set<String> properties = configProperties();
            env.forEach(function -> function.fieldNames().forEachRemaining(variable -> assertThat(
                    variable.equals("RESULTS_QUEUE_URL") || isKnown(variable, properties)).as(variable).isTrue()));
            for (String event : List.of("events/sqs-standard.json", "events/http-batch.json", "events/kinesis-stream.json",
                    "events/dynamodb-stream.json")) {
                assertThat(Path.of(event)).exists();
            }
        }
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
                    assertThat(line.get(0).get("expression").asText()).contains("{Fanout,", SummaryFigures.TYPE_FAILURES.replace(".", ""));
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
