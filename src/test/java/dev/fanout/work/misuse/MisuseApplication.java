package dev.fanout.work.misuse;

import java.nio.file.Path;

import org.jboss.shrinkwrap.api.asset.FileAsset;
import org.jboss.shrinkwrap.api.spec.JavaArchive;

import io.quarkus.test.QuarkusUnitTest;

/**
 * An application of Fanout with a user's classes compiled at test time (never into the test classes, which every
 * {@code @QuarkusTest} application indexes), for starts that must fail. It runs the {@code http} entry point, which
 * needs no results queue: the start fails for the function's misuse, not for a missing setting.
 */
final class MisuseApplication {

    private MisuseApplication() {
    }

    static QuarkusUnitTest of(Path classes, String pkg, Iterable<String> classNames) {
        return new QuarkusUnitTest()
                .withApplicationRoot(jar -> {
                    for (String name : classNames) {
                        String path = pkg.replace('.', '/') + "/" + name + ".class";
                        jar.add(new FileAsset(classes.resolve(path).toFile()), path);
                    }
                    addFanout(jar);
                })
                .overrideConfigKey("quarkus.lambda.handler", "http");
    }

    /** Fanout itself: its entry points, wiring and built-in functions, and its configuration. */
    static void addFanout(JavaArchive jar) {
        jar.addPackages(false, "dev.fanout.function", "dev.fanout.function.idempotency", "dev.fanout.work",
                "dev.fanout.work.builtin", "dev.fanout.work.http", "dev.fanout.batch", "dev.fanout.batch.http",
                "dev.fanout.fanin", "dev.fanout.engine")
                .addAsResource("application.properties");
    }
}
