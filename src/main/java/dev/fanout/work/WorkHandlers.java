package dev.fanout.work;

import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;

import dev.fanout.engine.ItemHandler;
import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.RejectedItemException;
import io.smallrye.mutiny.Uni;

/**
 * The handlers by item type, and the one engine handler that dispatches each item to its type's
 * handler. Malformed items and unknown types are rejected with their reason.
 */
public final class WorkHandlers {

    private sealed interface Registered {
    }

    private record Blocking(WorkHandler handler) implements Registered {
    }

    private record Async(AsyncWorkHandler handler) implements Registered {
    }

    private final Map<String, Registered> byType;
    private final ObjectMapper mapper;
    private final Payloads payloads;
    private final String known;

    private WorkHandlers(Map<String, Registered> byType, ObjectMapper mapper) {
        this.byType = Map.copyOf(byType);
        this.mapper = mapper;
        this.payloads = new Payloads(mapper);
        this.known = String.join(", ", new TreeMap<>(byType).keySet());
    }

    public static Builder builder(ObjectMapper mapper) {
        return new Builder(mapper);
    }

    public Set<String> types() {
        return new TreeMap<>(byType).keySet();
    }

    /**
     * The engine handler: runs each item through its type's handler on the item's thread; the output becomes
     * JSON. A blocking handler is called as it is; an async one's {@code Uni} is awaited ({@link UniAwait}).
     */
    public ItemHandler<ParsedItem, JsonNode> dispatcher() {
        return context -> switch (context.item()) {
            case ParsedItem.Malformed malformed -> throw new RejectedItemException(malformed.reason());
            case ParsedItem.Valid(WorkItem item) -> {
                Registered registered = byType.get(item.type());
                if (registered == null) {
                    throw new RejectedItemException("unknown item type '" + item.type() + "' (known types: " + known + ")");
                }
                var work = new WorkContext(item, context, payloads);
                yield switch (registered) {
                    case Blocking(WorkHandler handler) -> toJson(item, handler.handle(work));
                    case Async(AsyncWorkHandler handler) -> {
                        Uni<?> output = handler.handle(work);
                        if (output == null) {
                            throw new IllegalStateException("handler of '" + item.type() + "' returned null instead of a Uni");
                        }
                        yield toJson(item, UniAwait.await(output, context.cancellation()));
                    }
                };
            }
        };
    }

    private JsonNode toJson(WorkItem item, Object output) {
        if (output == null) {
            return NullNode.getInstance();
        }
        if (output instanceof JsonNode node) {
            return node;
        }
        try {
            return mapper.valueToTree(output);
        } catch (IllegalArgumentException e) {
            throw new NonRetryableException("output of '" + item.type() + "' item cannot be written as JSON: "
                    + e.getMessage(), e);
        }
    }

    public static final class Builder {
        private final ObjectMapper mapper;
        private final Map<String, Registered> byType = new TreeMap<>();

        private Builder(ObjectMapper mapper) {
            this.mapper = Objects.requireNonNull(mapper, "mapper");
        }

        public Builder register(String type, WorkHandler handler) {
            return add(type, new Blocking(Objects.requireNonNull(handler, "handler")));
        }

        public Builder registerAsync(String type, AsyncWorkHandler handler) {
            UniAwait.prepare();
            return add(type, new Async(Objects.requireNonNull(handler, "handler")));
        }

        private Builder add(String type, Registered registered) {
            if (type == null || type.isBlank()) {
                throw new IllegalArgumentException("a handler's item type must be a non-empty name");
            }
            if (byType.putIfAbsent(type, registered) != null) {
                throw new IllegalArgumentException("two handlers for item type '" + type + "'");
            }
            return this;
        }

        public WorkHandlers build() {
            return new WorkHandlers(byType, mapper);
        }
    }
}
