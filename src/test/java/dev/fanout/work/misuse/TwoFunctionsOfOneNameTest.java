package dev.fanout.work.misuse;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkus.funqy.Funq;
import io.quarkus.test.QuarkusUnitTest;

/**
 * Two {@code @Funq} functions of one name in two classes: Funqy's registry keeps one and only warns; Fanout's
 * start fails, naming both methods. An application of its own (QuarkusUnitTest), so that the clash reaches no
 * other test's application.
 */
class TwoFunctionsOfOneNameTest {

    public static class First {
        @Funq("twin")
        public String twin(String in) {
            return in;
        }
    }

    public static class Second {
        @Funq("twin")
        public String other(String in) {
            return in;
        }
    }

    @RegisterExtension
    static final QuarkusUnitTest APP = new QuarkusUnitTest()
            .withApplicationRoot(jar -> jar.addClasses(First.class, Second.class)
                    // Fanout itself: its entry points, wiring and built-in functions
                    .addPackages(false, "dev.fanout.function", "dev.fanout.work", "dev.fanout.work.builtin",
                            "dev.fanout.work.http", "dev.fanout.batch", "dev.fanout.batch.http", "dev.fanout.fanin",
                            "dev.fanout.engine")
                    .addAsResource("application.properties"))
            .assertException(failure -> {
                Throwable cause = failure;
                while (cause.getCause() != null && !(cause instanceof IllegalStateException)) {
                    cause = cause.getCause();
                }
                assertThat(cause).isInstanceOf(IllegalStateException.class);
                assertThat(cause.getMessage()).startsWith("two functions share a name, so an item of that type could run"
                        + " either: 'twin' is the name of ")
                        .contains(First.class.getName() + ".twin(String)")
                        .contains(Second.class.getName() + ".other(String)");
            });

    @Test
    void theStartFails() {
        // the extension fails the test if the application started
    }
}
