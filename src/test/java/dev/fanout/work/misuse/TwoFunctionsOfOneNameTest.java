package dev.fanout.work.misuse;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.fanout.testing.JavaSources;
import io.quarkus.test.QuarkusUnitTest;

/**
 * Two {@code @Funq} functions of one name in two classes: Funqy's registry keeps one and only warns; Fanout's
 * start fails, naming both methods. The application is one of its own (QuarkusUnitTest), and its two classes
 * are compiled here from source, never into the test classes: every {@code @QuarkusTest} application indexes
 * the test classes, and the clash would fail all of their starts.
 */
class TwoFunctionsOfOneNameTest {

    static final String PACKAGE = "dev.fanout.misuse";
    static final Map<String, String> SOURCES = Map.of(
            "First", "public class First { @io.quarkus.funqy.Funq(\"twin\") public String twin(String in) { return in; } }",
            "Second", "public class Second { @io.quarkus.funqy.Funq(\"twin\") public String other(String in) { return in; } }");
    static final Path CLASSES = JavaSources.compile(PACKAGE, SOURCES);

    @RegisterExtension
    static final QuarkusUnitTest APP = MisuseApplication.of(CLASSES, PACKAGE, SOURCES.keySet())
            .assertException(failure -> {
                Throwable cause = failure;
                while (cause.getCause() != null && !(cause instanceof IllegalStateException)) {
                    cause = cause.getCause();
                }
                assertThat(cause).isInstanceOf(IllegalStateException.class);
                assertThat(cause.getMessage()).startsWith("two functions share a name, so an item of that type could run"
                        + " either: 'twin' is the name of ")
                        .contains(PACKAGE + ".First.twin(String)")
                        .contains(PACKAGE + ".Second.other(String)");
            });

    @Test
    void theStartFails() {
        // the extension fails the test if the application started
    }
}
