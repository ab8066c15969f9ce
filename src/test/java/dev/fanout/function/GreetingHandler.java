package dev.fanout.function;

import dev.fanout.work.ItemType;
import dev.fanout.work.WorkContext;
import dev.fanout.work.WorkHandler;
import jakarta.enterprise.context.ApplicationScoped;


/** A user's own handler, added the way the README shows: a CDI bean qualified by its item type. */
@ApplicationScoped
@ItemType("greet")
public class GreetingHandler implements WorkHandler {

    public record Input(String name) {
        public Input {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("field 'name' is required");
            }
        }
    }

    public record Output(String greeting) {
    }

    @Override
    public Object handle(WorkContext context) {
        Input input = context.payload(Input.class);
        return new Output("Hello, " + input.name());
    }
}
