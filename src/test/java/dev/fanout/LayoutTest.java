package dev.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The layout as the main sources' own text states it: each package names only the packages below it
 * ({@code function -> batch (batch.http) -> fanin, work -> engine}), and the layers under the entry points name
 * neither Quarkus nor the Lambda event types.
 */
class LayoutTest {

    static final Path MAIN = Path.of("src/main/java/dev/fanout");
    static final Pattern NAMED = Pattern.compile("\\bdev\\.fanout\\.([a-z]+(?:\\.[a-z]+)*)\\.[A-Z]");

    /** For each package (a subpackage counts as its parent, except batch.http), the packages it may name. */
    static final Map<String, Set<String>> MAY_NAME = Map.of(
            "engine", Set.of(),
            "work", Set.of("engine"),
            "fanin", Set.of("engine"),
            "batch", Set.of("engine", "work", "fanin"),
            "batch.http", Set.of("engine", "work", "fanin", "batch"),
            "function", Set.of("engine", "work", "fanin", "batch", "batch.http"));

    static String layer(String pkg) {
        return pkg.startsWith("batch.http") ? "batch.http" : pkg.split("\\.")[0];
    }

    static List<Path> sources() {
        try (Stream<Path> files = Files.walk(MAIN)) {
            return files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String text(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String layerOf(Path file) {
        return layer(MAIN.relativize(file.getParent()).toString().replace('/', '.'));
    }

    @Test
    void everyPackageNamesOnlyThePackagesBelowIt() {
        List<String> upward = new ArrayList<>();
        Set<String> layers = new TreeSet<>();
        for (Path file : sources()) {
            String from = layerOf(file);
            layers.add(from);
            Matcher named = NAMED.matcher(text(file));
            while (named.find()) {
                String to = layer(named.group(1));
                if (!to.equals(from) && !MAY_NAME.get(from).contains(to)) {
                    upward.add(MAIN.relativize(file) + " names dev.fanout." + named.group(1));
                }
            }
        }
        assertThat(layers).containsExactlyInAnyOrderElementsOf(MAY_NAME.keySet());
        assertThat(upward).isEmpty();
    }

    @Test
    void theLayersUnderTheEntryPointsNameNeitherQuarkusNorTheLambdaEvents() {
        List<String> found = new ArrayList<>();
        for (Path file : sources()) {
            if (Set.of("engine", "fanin", "batch", "batch.http").contains(layerOf(file))) {
                String text = text(file);
                for (String foreign : List.of("io.quarkus.", "com.amazonaws.services.lambda.")) {
                    if (text.contains(foreign)) {
                        found.add(MAIN.relativize(file) + " names " + foreign);
                    }
                }
            }
        }
        assertThat(found).isEmpty();
    }

    @Test
    void theEngineNamesNothingButTheJdk() {
        Pattern imported = Pattern.compile("^import (?:static )?([\\w.]+);", Pattern.MULTILINE);
        List<String> found = new ArrayList<>();
        for (Path file : sources()) {
            if (layerOf(file).equals("engine")) {
                Matcher m = imported.matcher(text(file));
                while (m.find()) {
                    if (!m.group(1).startsWith("java.") && !m.group(1).startsWith("dev.fanout.engine.")) {
                        found.add(MAIN.relativize(file) + " imports " + m.group(1));
                    }
                }
            }
        }
        assertThat(found).isEmpty();
    }
}
