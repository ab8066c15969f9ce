package dev.fanout.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.tools.ToolProvider;

/**
 * Classes compiled from source while a test runs, never into the test classes. For {@code @Funq} fixtures:
 * every {@code @QuarkusTest} application indexes the test classes, so a fixture function compiled with them
 * would become an item type of every such application (and two of one name would fail all their starts).
 */
public final class JavaSources {

    private JavaSources() {
    }

    /**
     * Compiles each source (simple class name to the class's text, without its package line) into package
     * {@code pkg}, against the test class path, and returns the directory of the class files.
     */
    public static Path compile(String pkg, Map<String, String> sources) {
        try {
            Path root = Files.createTempDirectory("fanout-sources");
            Path sourceDir = Files.createDirectories(root.resolve("src"));
            Path classes = Files.createDirectories(root.resolve("classes"));
            List<String> arguments = new ArrayList<>(List.of("-proc:none", "-d", classes.toString(), "-cp",
                    System.getProperty("java.class.path")));
            for (var source : sources.entrySet()) {
                Path file = sourceDir.resolve(source.getKey() + ".java");
                Files.writeString(file, "package " + pkg + "; " + source.getValue());
                arguments.add(file.toString());
            }
            int status = ToolProvider.getSystemJavaCompiler().run(null, null, null, arguments.toArray(String[]::new));
            if (status != 0) {
                throw new IllegalStateException("javac failed (" + status + ") on " + sources.keySet());
            }
            return classes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A new instance of {@code className}, loaded from {@code classes} (its no-argument constructor). */
    public static Object instance(Path classes, String className) {
        try {
            var loader = new URLClassLoader(new java.net.URL[] { classes.toUri().toURL() },
                    JavaSources.class.getClassLoader());
            var constructor = loader.loadClass(className).getDeclaredConstructor();
            constructor.setAccessible(true); // a class that is not public, as a user's may be
            return constructor.newInstance();
        } catch (MalformedURLException e) {
            throw new UncheckedIOException(e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot instantiate " + className, e);
        }
    }
}
