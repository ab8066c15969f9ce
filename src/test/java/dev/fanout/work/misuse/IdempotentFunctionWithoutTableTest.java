package dev.fanout.work.misuse;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.fanout.testing.JavaSources;
import io.quarkus.test.QuarkusUnitTest;

/**
 * An {@code @Idempotent} function in an application that configures no idempotency table: the start fails, naming
 * the function and the setting, instead of running its items unguarded. Compiled here from source, like
 * {@link TwoFunctionsOfOneNameTest}'s, so that no other application's start sees it.
 */
class IdempotentFunctionWithoutTableTest {

    static final String PACKAGE = "dev.fanout.misuse.idempotent";
    static final Map<String, String> SOURCES = Map.of("Payments", "public class Payments {"
            + " @io.quarkus.funqy.Funq(\"pay\") @dev.fanout.work.Idempotent"
            + " public String pay(String order) { return order; } }");
    static final Path CLASSES = JavaSources.compile(PACKAGE, SOURCES);

    @RegisterExtension
    static final QuarkusUnitTest APP = MisuseApplication.of(CLASSES, PACKAGE, java.util.List.of("Payments"))
            .assertException(failure -> {
                Throwable cause = failure;
                while (cause.getCause() != null && !(cause instanceof IllegalStateException)) {
                    cause = cause.getCause();
                }
                assertThat(cause).isInstanceOf(IllegalStateException.class);
                assertThat(cause.getMessage()).isEqualTo("idempotent functions need a store, and none is configured:"
                        + " set fanout.idempotency.table (FANOUT_IDEMPOTENCY_TABLE) for ['pay' (" + PACKAGE
                        + ".Payments.pay(String))]");
            });

    @Test
    void theStartFails() {
        // the extension fails the test if the application started
    }
}
