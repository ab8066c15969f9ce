package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.batch.ResultRecord;
import dev.fanout.testing.JacksonBindings;
import dev.fanout.work.builtin.DigestFunction;
import dev.fanout.work.builtin.Greeting;

/**
 * Checks the native build steps and the metadata they hand to native-image, not a native image (none can
 * be built here). `./mvnw verify` runs Quarkus's native build steps into target/native-steps with a
 * stand-in native-image (src/test/native-steps/bin/native-image); these tests read what those steps
 * wrote: the reflection, resource and service metadata in the native-image source jar and in the jars it
 * puts on native-image's class path, the arguments native-image was called with, and function.zip.
 */
class NativeBuildStepsIT {

    static final Path STEPS = Path.of("target/native-steps");
    static final ObjectMapper JSON = new ObjectMapper();

    /** Resources the function reads at run time, and who reads them. */
    static final Map<String, String> RESOURCES_READ_AT_RUN_TIME = Map.of(
            "org/publicsuffix/list/effective_tld_names.dat",
            "HttpClient 5's TLS hostname verifier (PublicSuffixMatcherLoader), built with the http handler's pool");

    /** The libraries the function calls at run time that Quarkus has no extension for: their services are ours to list. */
    static final List<String> LIBRARIES_WITHOUT_EXTENSION = List.of("software.amazon.awssdk.", "org.apache.httpcomponents.",
            "com.fasterxml.jackson.", "com.amazonaws.", "joda-time.");

    /**
     * Service files on the class path whose services nothing looks up with ServiceLoader at run time in
     * this function, and why. Quarkus turns off native-image's automatic service registration
     * (-H:-UseServiceLoaderFeature): a service looked up at run time must be in the resource metadata.
     */
    static final Map<String, String> SERVICES_NOT_LOOKED_UP = Map.ofEntries(
            Map.entry("com.fasterxml.jackson.core.JsonFactory", "Jackson never loads its factory as a service"),
            Map.entry("com.fasterxml.jackson.core.ObjectCodec", "Jackson never loads its codec as a service"),
            Map.entry("com.fasterxml.jackson.databind.Module",
                    "Quarkus registers Jackson modules at build time; nothing calls findAndRegisterModules"),
            Map.entry("software.amazon.awssdk.thirdparty.jackson.core.JsonFactory", "as Jackson's own"),
            Map.entry("software.amazon.awssdk.http.SdkHttpService",
                    "Wiring hands the SQS client its HTTP client; the SDK looks up a service only when none is given"),
            Map.entry("software.amazon.awssdk.core.warmup.SdkWarmUpProvider",
                    "the SDK's own warm-up is not called: Fanout primes without calling AWS (SnapStart)"));

    static Metadata metadata;

    @BeforeAll
    static void read() {
        metadata = Metadata.read(STEPS);
    }

    /** What Quarkus's native build steps hand to native-image. */
    record Metadata(Set<String> reflection, List<Pattern> resources, List<String> args) {

        static Metadata read(Path steps) {
            Path sourceJarDir;
            try (Stream<Path> dirs = Files.list(steps)) {
                sourceJarDir = dirs.filter(d -> d.getFileName().toString().endsWith("-native-image-source-jar")).findFirst()
                        .orElseThrow(() -> new AssertionError("no native-image source jar in " + steps
                                + ": the native-steps execution of ./mvnw package did not run (it is skipped with -DskipITs)"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Set<String> reflection = new TreeSet<>();
            List<Pattern> resources = new ArrayList<>();
            List<Path> jars = new ArrayList<>();
            try (Stream<Path> all = Files.walk(sourceJarDir)) {
                all.filter(p -> p.toString().endsWith(".jar")).forEach(jars::add);
                for (Path jar : jars) {
                    try (ZipFile zip = new ZipFile(jar.toFile())) {
                        for (ZipEntry entry : zip.stream().toList()) {
                            String name = entry.getName();
                            if (!name.startsWith("META-INF/native-image/")) {
                                continue;
                            }
                            JsonNode json = name.endsWith(".json") ? JSON.readTree(zip.getInputStream(entry)) : null;
                            if (name.endsWith("reflect-config.json")) {
                                json.forEach(type -> reflection.add(type.path("name").asText(type.path("type").asText())));
                            } else if (name.endsWith("resource-config.json")) {
                                JsonNode includes = json.path("resources").isArray() ? json.path("resources")
                                        : json.path("resources").path("includes");
                                includes.forEach(r -> resources.add(Pattern.compile(r.path("pattern").asText())));
                            } else if (name.endsWith("reachability-metadata.json")) {
                                json.path("reflection").forEach(type -> reflection.add(type.path("type").asText()));
                                json.path("resources").forEach(r -> resources.add(r.has("glob")
                                        ? glob(r.get("glob").asText()) : Pattern.compile(r.path("pattern").asText())));
                            }
                        }
                    }
                }
                List<String> args = Files.readAllLines(sourceJarDir.resolve("native-image.args"));
                return new Metadata(reflection, resources, args);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        static Pattern glob(String glob) {
            return Pattern.compile(Pattern.quote(glob).replace("**", "\\E.*\\Q").replace("*", "\\E[^/]*\\Q"));
        }

        boolean includesResource(String name) {
            return resources.stream().anyMatch(p -> p.matcher(name).matches());
        }
    }

    /** Fails naming every class Jackson binds that the native image would have no reflection data for. */
    static void assertRegistered(Collection<String> bound, Set<String> registered) {
        List<String> missing = bound.stream().filter(c -> !registered.contains(c)).sorted().toList();
        if (!missing.isEmpty()) {
            throw new AssertionError("Jackson binds these classes through reflection, but the native build's metadata"
                    + " has no reflection data for them, so a native image could not read or write them: " + missing
                    + ". A function's input and output types are registered by Funqy's scanner; register any other class Jackson"
                    + " binds with @io.quarkus.runtime.annotations.RegisterForReflection.");
        }
    }

    /** The classes the unit tests saw Jackson bind, split into the function's own and test-only ones. */
    static Map<Boolean, List<String>> recordedBindings() {
        Path file = Path.of(JacksonBindings.FILE);
        try {
            assertThat(file).as("the unit tests record what Jackson binds: run them (./mvnw verify) before this check")
                    .exists();
            List<String> bound = Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank())
                    .distinct().toList();
            Map<Boolean, List<String>> byOrigin = new TreeMap<>();
            byOrigin.put(true, new ArrayList<>());
            byOrigin.put(false, new ArrayList<>());
            for (String type : bound) {
                boolean testOnly = Files.exists(Path.of("target/test-classes", type.replace('.', '/') + ".class"));
                byOrigin.get(!testOnly).add(type);
            }
            return byOrigin;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void everyClassJacksonBindsInTheTestsIsRegisteredForReflection() {
        List<String> shipped = recordedBindings().get(true);

        // the recording covers both entry points and the built-in functions' payloads; the result itself is written
        // by hand (ResultJson) and no longer bound
        assertThat(shipped).contains(DigestFunction.Input.class.getName(), DigestFunction.Output.class.getName(),
                dev.fanout.work.builtin.DelayFunction.Input.class.getName(),
                dev.fanout.work.http.HttpCallFunction.Input.class.getName(), dev.fanout.work.http.HttpCallFunction.Output.class.getName());
        assertRegistered(shipped, metadata.reflection());
    }

    @Test
    void funqysScannerRegistersAFunctionsRecordsWithoutAnyAnnotationNestedOnesIncluded() {
        List<Class<?>> records = List.of(Greeting.Name.class, Greeting.Title.class, Greeting.Hello.class,
                DigestFunction.Input.class, DigestFunction.Output.class);
        for (Class<?> record : records) {
            assertThat(record.getAnnotations()).as("%s carries no annotation", record.getName()).isEmpty();
            assertThat(metadata.reflection()).as("reflection data for %s", record.getName()).contains(record.getName());
        }
    }

    @Test
    void theCheckNamesARecordThatNothingRegisters() {
        // a test-only record, bound by no function of the build: the check must fail, naming it
        String unregistered = "dev.fanout.work.ItemFunctionsTest$Shapes$Name";
        assertThatThrownBy(() -> assertRegistered(List.of(ResultRecord.class.getName(), unregistered), metadata.reflection()))
                .hasMessageContaining(unregistered)
                .hasMessageNotContaining(ResultRecord.class.getName() + ",");
    }

    @Test
    void resourcesTheFunctionReadsAtRunTimeAreIncluded() throws IOException {
        for (var resource : RESOURCES_READ_AT_RUN_TIME.entrySet()) {
            assertThat(onClassPath(resource.getKey())).as("%s is on the function's class path", resource.getKey()).isTrue();
            assertThat(metadata.includesResource(resource.getKey()))
                    .as("%s (%s) is in the native build's resource metadata: add it to quarkus.native.resources.includes",
                            resource.getKey(), resource.getValue())
                    .isTrue();
        }
        // and the check can fail: a resource nothing registers is not taken for included
        assertThat(metadata.includesResource("org/joda/time/format/messages_ja.properties")).isFalse();
    }

    @Test
    void everyServiceOnTheClassPathIsIncludedOrKnownNotToBeLookedUp() throws IOException {
        Set<String> unaccounted = new TreeSet<>();
        for (String service : servicesOnClassPath()) {
            if (!metadata.includesResource("META-INF/services/" + service) && !SERVICES_NOT_LOOKED_UP.containsKey(service)) {
                unaccounted.add(service);
            }
        }
        assertThat(unaccounted).as("services a native image would not find: include META-INF/services/<name> in"
                + " quarkus.native.resources.includes, or add the service to SERVICES_NOT_LOOKED_UP with the reason").isEmpty();
    }

    @Test
    void functionZipHoldsTheBootstrapOfANativeBuild() throws IOException {
        try (ZipFile zip = new ZipFile(STEPS.resolve("function.zip").toFile())) {
            ZipEntry bootstrap = zip.getEntry("bootstrap");
            assertThat(bootstrap).as("function.zip of the native build holds bootstrap").isNotNull();
            // the stand-in's placeholder: native-image was called, and its output became bootstrap
            assertThat(new String(zip.getInputStream(bootstrap).readAllBytes(), StandardCharsets.UTF_8))
                    .contains("placeholder of a native image");
        }
        assertThat(metadata.args()).contains("--no-fallback", "-jar");
    }

    static boolean onClassPath(String resource) throws IOException {
        for (Path jar : runtimeJars()) {
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                if (zip.getEntry(resource) != null) {
                    return true;
                }
            }
        }
        return false;
    }

    static Set<String> servicesOnClassPath() throws IOException {
        Set<String> services = new TreeSet<>();
        for (Path jar : runtimeJars()) {
            if (LIBRARIES_WITHOUT_EXTENSION.stream().noneMatch(jar.getFileName().toString()::startsWith)) {
                continue;
            }
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                zip.stream().map(ZipEntry::getName)
                        .filter(n -> n.startsWith("META-INF/services/") && n.length() > "META-INF/services/".length())
                        .forEach(n -> services.add(n.substring("META-INF/services/".length())));
            }
        }
        return services;
    }

    static List<Path> runtimeJars() throws IOException {
        try (Stream<Path> jars = Files.list(Path.of("target/lib"))) {
            return jars.filter(j -> j.toString().endsWith(".jar")).toList();
        }
    }

    /** Static state that must not be frozen into an image at build time: a seed, or an address resolved then. */
    static final Set<String> RUN_TIME_STATE = Set.of("Ljava/util/Random;", "Ljava/security/SecureRandom;",
            "Ljava/util/SplittableRandom;", "Ljava/net/InetAddress;", "Ljava/net/Inet4Address;",
            "Ljava/net/Inet6Address;", "Ljava/net/InetSocketAddress;");

    /** A class that holds randomness in its static state, as a library might: the negative control. */
    static final class HoldsRandomness {
        static final java.security.SecureRandom SEEDED = new java.security.SecureRandom();
    }

    /** Classes (by name) with a static field of a {@link #RUN_TIME_STATE} type, from class files. */
    static Set<String> classesHoldingRunTimeState(Map<String, byte[]> classFiles) {
        Set<String> found = new TreeSet<>();
        classFiles.forEach((name, bytes) -> {
            var model = java.lang.classfile.ClassFile.of().parse(bytes);
            for (var field : model.fields()) {
                if (field.flags().has(java.lang.reflect.AccessFlag.STATIC)
                        && RUN_TIME_STATE.contains(field.fieldType().stringValue())) {
                    found.add(model.thisClass().asInternalName().replace('/', '.'));
                }
            }
        });
        return found;
    }

    /**
     * The classes native-image initialises at run time: Quarkus's generated feature names them (and
     * initialises everything else at build time), and --initialize-at-run-time arguments add to them.
     */
    static Set<String> initialisedAtRunTime() throws IOException {
        Set<String> names = new TreeSet<>();
        Path sourceJar;
        try (Stream<Path> files = Files.walk(STEPS)) {
            sourceJar = files.filter(p -> p.getParent().getFileName().toString().endsWith("-native-image-source-jar")
                    && p.toString().endsWith("-runner.jar")).findFirst().orElseThrow();
        }
        try (ZipFile zip = new ZipFile(sourceJar.toFile())) {
            byte[] feature = zip.getInputStream(zip.getEntry("io/quarkus/runner/Feature.class")).readAllBytes();
            var model = java.lang.classfile.ClassFile.of().parse(feature);
            for (var entry : model.constantPool()) {
                if (entry instanceof java.lang.classfile.constantpool.StringEntry string) {
                    names.add(string.stringValue());
                }
            }
        }
        for (String arg : metadata.args()) {
            if (arg.startsWith("--initialize-at-run-time=")) {
                names.addAll(List.of(arg.substring("--initialize-at-run-time=".length()).split(",")));
            }
        }
        return names;
    }

    static List<String> notInitialisedAtRunTime(Set<String> holding, Set<String> runTime) {
        return holding.stream().filter(c -> runTime.stream().noneMatch(r -> !r.isEmpty()
                && (c.equals(r) || c.startsWith(r.endsWith(".") ? r : r + ".") || c.startsWith(r + "$")))).toList();
    }

    static Map<String, byte[]> classFilesOf(Path jar) throws IOException {
        Map<String, byte[]> classes = new TreeMap<>();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (ZipEntry entry : zip.stream().toList()) {
                if (entry.getName().endsWith(".class") && !entry.getName().startsWith("META-INF/")) {
                    classes.put(entry.getName(), zip.getInputStream(entry).readAllBytes());
                }
            }
        }
        return classes;
    }

    @Test
    void classesHoldingRandomnessOrAddressesInStaticStateAreInitialisedAtRunTime() throws IOException {
        Map<String, byte[]> classes = new TreeMap<>();
        try (Stream<Path> own = Files.walk(Path.of("target/classes"))) {
            for (Path file : own.filter(p -> p.toString().endsWith(".class")).toList()) {
                classes.put(file.toString(), Files.readAllBytes(file));
            }
        }
        for (Path jar : runtimeJars()) {
            if (LIBRARIES_WITHOUT_EXTENSION.stream().anyMatch(jar.getFileName().toString()::startsWith)) {
                classes.putAll(classFilesOf(jar));
            }
        }
        Set<String> runTime = initialisedAtRunTime();
        Set<String> holding = classesHoldingRunTimeState(classes);

        // what the scan finds today: HttpClient 5's NTLM engine, with a static SecureRandom
        assertThat(holding).contains("org.apache.hc.client5.http.impl.auth.NTLMEngineImpl");
        assertThat(notInitialisedAtRunTime(holding, runTime))
                .as("classes whose static state a native image would freeze at build time: add them to"
                        + " --initialize-at-run-time (quarkus.native.additional-build-args)")
                .isEmpty();
        // and the check can fail: a class that holds a seeded generator and is not listed is named
        String control = HoldsRandomness.class.getName();
        Path controlFile = Path.of("target/test-classes", control.replace('.', '/') + ".class");
        Set<String> withControl = classesHoldingRunTimeState(Map.of(control, Files.readAllBytes(controlFile)));
        assertThat(notInitialisedAtRunTime(withControl, runTime)).containsExactly(control);
    }
}
