package dev.fanout.testing;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The packaged function ({@code target/function.zip}) running as it runs on Lambda's Java runtime: the
 * zip unpacked as the task root, its {@code lib/} on the class path, and AWS's Runtime Interface Client
 * polling a {@link RuntimeApiServer} and calling Quarkus's stream handler.
 */
public final class PackagedFunction implements AutoCloseable {

    public static final String HANDLER = "dev.fanout.function.FanoutStreamHandler::handleRequest";
    static final String RIC_MAIN = "com.amazonaws.services.lambda.runtime.api.client.AWSLambda";

    private final Process process;
    private final Path log;

    private PackagedFunction(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts the packaged function with the named entry point ({@code sqs}, {@code http}). */
    public static PackagedFunction start(String entryPoint, RuntimeApiServer api, Map<String, String> env) {
        return start(entryPoint, api, env, List.of());
    }

    public static PackagedFunction start(String entryPoint, RuntimeApiServer api, Map<String, String> env,
            List<String> extraJvmOptions) {
        return start(entryPoint, api, env, extraJvmOptions, false);
    }

    /**
     * @param appAsJar put the task root's own classes on the class path as one jar instead of as a
     *                 directory: a JDK AOT cache accepts only jars on the class path
     */
    public static PackagedFunction start(String entryPoint, RuntimeApiServer api, Map<String, String> env,
            List<String> extraJvmOptions, boolean appAsJar) {
        return start(Path.of("target", "function.zip"), HANDLER, entryPoint, api, env, extraJvmOptions, appAsJar);
    }

    /**
     * Another build's zip (a benchmark compares two), unpacked next to it, with its own handler class.
     */
    public static PackagedFunction start(Path zip, String handler, String entryPoint, RuntimeApiServer api,
            Map<String, String> env, List<String> extraJvmOptions, boolean appAsJar) {
        Path target = Path.of("target");
        String name = zip.equals(Path.of("target", "function.zip")) ? "packaged-function"
                : "packaged-" + Integer.toHexString(zip.toAbsolutePath().toString().hashCode());
        Path taskRoot = unpack(zip, target.resolve(name));
        String app = appAsJar ? appJar(taskRoot, target.resolve(name + "-app.jar")).toString() : taskRoot.toString();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // the flags of Lambda's Java runtime: C1 only, serial GC, heap from the memory size
        // (-Xshare:auto, also Lambda's, is the default; spelled out it would clash with -XX:AOTCacheOutput)
        command.addAll(List.of("-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Xmx" + env.getOrDefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024") + "m",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED",
                // the Runtime Interface Client loads its JNI library: without this, JDK 25 warns in plain text
                "--enable-native-access=ALL-UNNAMED"));
        command.addAll(extraJvmOptions);
        // the client's own loader copies its JNI library to one fixed /tmp path on every start: two functions
        // starting at once would load a file the other is rewriting (SIGBUS); give each the same ready copy
        command.add("-D" + JNI_PROPERTY + "=" + nativeClientLibrary(target.resolve("lambda-runtime")).toAbsolutePath());
        command.add("-cp");
        command.add(String.join(File.pathSeparator, app, taskRoot.resolve("lib") + "/*",
                target.resolve("lambda-runtime") + "/*"));
        command.add(RIC_MAIN);
        command.add(handler);

        Map<String, String> environment = new HashMap<>();
        environment.put("AWS_LAMBDA_RUNTIME_API", api.address());
        environment.put("QUARKUS_LAMBDA_HANDLER", entryPoint);
        environment.put("AWS_REGION", ElasticMq.REGION);
        environment.put("AWS_ACCESS_KEY_ID", ElasticMq.ACCESS_KEY);
        environment.put("AWS_SECRET_ACCESS_KEY", ElasticMq.SECRET_KEY);
        environment.put("AWS_LAMBDA_FUNCTION_NAME", "fanout");
        environment.put("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        environment.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024");
        environment.put("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/fanout");
        environment.put("AWS_LAMBDA_LOG_STREAM_NAME", "local");
        environment.put("LAMBDA_TASK_ROOT", taskRoot.toAbsolutePath().toString());
        // as Lambda sets it for LoggingConfig LogFormat JSON (template.yaml): the client's own reports are JSON too
        environment.put("AWS_LAMBDA_LOG_FORMAT", "JSON");
        environment.putAll(env);
        try {
            Path logs = Files.createDirectories(target.resolve("function-logs"));
            Path log = logs.resolve(entryPoint + "-" + System.nanoTime() + ".log");
            var builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().clear();
            builder.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
            builder.environment().putAll(environment);
            Process process = builder.start();
            // a function that dies is an answer too: invocations waiting on it fail at once, with its log
            process.onExit().thenRun(() -> api.functionExited("the function's process exited with "
                    + process.exitValue() + "; its log " + log.toAbsolutePath()));
            return new PackagedFunction(process, log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What the function wrote to stdout and stderr so far (its CloudWatch log, on Lambda). */
    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path logFile() {
        return log;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(Duration.ofSeconds(10).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static final String JNI_PROPERTY = "com.amazonaws.services.lambda.runtime.api.client.runtimeapi.NativeClient.JNI";

    /** The Runtime Interface Client's JNI library for this machine, unpacked once from its jar. */
    static synchronized Path nativeClientLibrary(Path runtimeDir) {
        String arch = switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch_64";
            default -> throw new IllegalStateException("no Runtime Interface Client library for " + System.getProperty("os.arch"));
        };
        Path library = runtimeDir.resolve("libaws-lambda-jni.linux-" + arch + ".so");
        if (Files.exists(library)) {
            return library;
        }
        try (Stream<Path> jars = Files.list(runtimeDir)) {
            Path jar = jars.filter(j -> j.getFileName().toString().startsWith("aws-lambda-java-runtime-interface-client"))
                    .findFirst().orElseThrow(() -> new IllegalStateException("no Runtime Interface Client in " + runtimeDir));
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                ZipEntry entry = zip.getEntry("jni/" + library.getFileName());
                Path partial = Files.createTempFile(runtimeDir, "jni", ".part");
                try (InputStream in = zip.getInputStream(entry)) {
                    Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
                }
                Files.move(partial, library, StandardCopyOption.ATOMIC_MOVE);
            }
            return library;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The task root's own entries (everything but lib/) as one jar, built once per unpacked zip. */
    static synchronized Path appJar(Path taskRoot, Path jar) {
        try {
            Path stamp = taskRoot.resolve(".unpacked-from");
            if (Files.exists(jar) && Files.getLastModifiedTime(jar).compareTo(Files.getLastModifiedTime(stamp)) > 0) {
                return jar;
            }
            try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar));
                    Stream<Path> files = Files.walk(taskRoot)) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    String name = taskRoot.relativize(file).toString().replace(File.separatorChar, '/');
                    if (name.startsWith("lib/") || name.equals(".unpacked-from")) {
                        continue;
                    }
                    out.putNextEntry(new java.util.jar.JarEntry(name));
                    Files.copy(file, out);
                    out.closeEntry();
                }
            }
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Unpacks the zip once per build (again when the zip is newer). */
    static synchronized Path unpack(Path zip, Path into) {
        if (!Files.exists(zip)) {
            throw new IllegalStateException(zip + " is missing: run ./mvnw package first");
        }
        try {
            Path stamp = into.resolve(".unpacked-from");
            String version = Files.getLastModifiedTime(zip).toString() + " " + Files.size(zip);
            if (Files.exists(stamp) && Files.readString(stamp).equals(version)) {
                return into;
            }
            if (Files.exists(into)) {
                try (Stream<Path> walk = Files.walk(into)) {
                    walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
            try (ZipFile file = new ZipFile(zip.toFile())) {
                Enumeration<? extends ZipEntry> entries = file.entries();
                while (entries.hasMoreElements()) {
                    ZipEntry entry = entries.nextElement();
                    Path out = into.resolve(entry.getName()).normalize();
                    if (!out.startsWith(into)) {
                        throw new IOException("zip entry outside the task root: " + entry.getName());
                    }
                    if (entry.isDirectory()) {
                        Files.createDirectories(out);
                    } else {
                        Files.createDirectories(out.getParent());
                        try (InputStream in = file.getInputStream(entry)) {
                            Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                }
            }
            Files.writeString(stamp, version);
            return into;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
