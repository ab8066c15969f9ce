package dev.fanout.work.builtin;

import io.quarkus.funqy.Funq;

/**
 * The built-in {@code greet} type, and the model of a user's own: one Funqy function, a record in (with a record
 * nested in it), a record out, and no annotation but {@code @Funq}: Funqy's scanner registers all three records
 * for a native image (NativeBuildStepsIT checks it). A deployment's smoke test:
 *
 * <pre>{"type": "greet", "payload": {"name": "Ada", "title": {"prefix": "Dr"}}}  ->  {"greeting": "Hello, Dr Ada"}</pre>
 */
public class Greeting {

    public record Name(String name, Title title) {
        public Name {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("field 'name' is required");
            }
        }
    }

    public record Title(String prefix) {
    }

    public record Hello(String greeting) {
    }

    @Funq("greet")
    public Hello greet(Name in) {
        String prefix = in.title() == null ? "" : in.title().prefix() + " ";
        return new Hello("Hello, " + prefix + in.name());
    }
}
