package dev.fanout.work;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;

import dev.fanout.engine.ItemContext;
import dev.fanout.engine.ItemHandler;
import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.RejectedItemException;
import dev.fanout.work.limits.ServiceLimits;
import io.quarkus.funqy.Funq;

/**
 * The item types: every {@code @Funq} function by its Funqy name, and the one engine handler that runs each
 * item through its type's function. Malformed items and unknown types are rejected with their reason. Every
 * function is checked when the registry is built (at start), so no item ever runs against a broken registry.
 */
public final class ItemFunctions {

    /** How many function names a rejection for an unknown type lists at most. */
    static final int NAMES_LISTED = 20;

    private final Map<String, ItemFunction> byName;
    private final Map<String, IdempotencyKeys> idempotent;
    private final Idempotency idempotency;
    private final ServiceLimits limits;
    private final ObjectMapper mapper;
    private final Set<String> names;
    private final String known;

    private ItemFunctions(Map<String, ItemFunction> byName, Map<String, IdempotencyKeys> idempotent,
            Idempotency idempotency, ServiceLimits limits, ObjectMapper mapper) {
        this.byName = Map.copyOf(byName);
        this.idempotent = Map.copyOf(idempotent);
        this.idempotency = idempotency;
        this.limits = limits;
        this.mapper = mapper;
        this.names = Collections.unmodifiableSet(new TreeSet<>(byName.keySet()));
        List<String> listed = names.stream().limit(NAMES_LISTED).toList();
        this.known = String.join(", ", listed) + (names.size() > NAMES_LISTED
                ? " and " + (names.size() - NAMES_LISTED) + " more" : "");
    }

    public static Builder builder(ObjectMapper mapper) {
        return new Builder(mapper);
    }

    /** The per-service limits of the functions' permits ({@link WorkContext#permit}). */
    public ServiceLimits serviceLimits() {
        return limits;
    }

    /** The functions' names, sorted. */
    public Set<String> types() {
        return names;
    }

    /** The names of the idempotent functions, sorted. */
    public Set<String> idempotentTypes() {
        return Collections.unmodifiableSet(new TreeSet<>(idempotent.keySet()));
    }

    /** Whether an item of type {@code name} reaches a function. */
    public boolean has(String name) {
        return byName.containsKey(name);
    }

    /** The reason an item of an unknown type is rejected. */
    public String unknownType(String type) {
        return "unknown item type '" + type + "' (known types: " + known + ")";
    }

    /**
     * The engine handler: runs each item's function on the item's thread; the output becomes JSON ({@code null}
     * for a function that returns nothing).
     */
    public ItemHandler<ParsedItem, JsonNode> dispatcher() {
        return context -> switch (context.item()) {
            case ParsedItem.Malformed malformed -> throw new RejectedItemException(malformed.reason());
            case ParsedItem.Valid(WorkItem item) -> {
                ItemFunction function = byName.get(item.type());
                if (function == null) {
                    throw new RejectedItemException(unknownType(item.type()));
                }
                IdempotencyKeys keys = idempotent.get(item.type());
                yield keys == null ? run(function, item, context) : idempotency.run(keys, function.returnsNothing(),
                        item, context, mapper, () -> run(function, item, context));
            }
        };
    }

    private JsonNode run(ItemFunction function, WorkItem item, ItemContext<?> context) throws Exception {
        Object output = function.call(item, context, limits);
        return function.returnsNothing() ? null : toJson(item, output);
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

    /** Collects the functions; {@link #build()} refuses two of one name. */
    public static final class Builder {
        private final ObjectMapper mapper;
        private final Map<String, List<ItemFunction>> byName = new TreeMap<>();
        private Idempotency idempotency = Idempotency.NONE;
        private ServiceLimits limits = ServiceLimits.DISABLED;

        private Builder(ObjectMapper mapper) {
            this.mapper = Objects.requireNonNull(mapper, "mapper");
        }

        /**
         * Every {@code @Funq} method of {@code functions}' class, under its Funqy name (the annotation's value,
         * or the method's name), called on {@code functions}.
         */
        public Builder add(Object functions) {
            Objects.requireNonNull(functions, "functions");
            FunctionTarget target = FunctionTarget.shared(functions);
            int found = 0;
            for (Method method : functions.getClass().getMethods()) {
                Funq funq = method.getAnnotation(Funq.class);
                if (funq != null) {
                    add(nameOf(method), method, target);
                    found++;
                }
            }
            if (found == 0) {
                throw new IllegalArgumentException(functions.getClass().getName() + " has no public @Funq method");
            }
            return this;
        }

        /**
         * The function {@code name}: {@code method} called on the instance {@code target} gives for each item.
         *
         * @throws IllegalStateException naming the method, if it cannot be an item type
         */
        public Builder add(String name, Method method, FunctionTarget target) {
            ItemFunction function = ItemFunction.of(name, Objects.requireNonNull(method, "method"),
                    Objects.requireNonNull(target, "target"), mapper);
            byName.computeIfAbsent(name, n -> new ArrayList<>()).add(function);
            return this;
        }

        /** The store and settings of idempotent functions ({@link Idempotent}, or named by configuration). */
        /** The per-service limits the functions' items ask for permits ({@link WorkContext#permit}); off if not set. */
        public Builder serviceLimits(ServiceLimits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        public Builder idempotency(Idempotency idempotency) {
            this.idempotency = Objects.requireNonNull(idempotency, "idempotency");
            return this;
        }

        /**
         * @throws IllegalStateException naming the methods of every name that two functions share, a function
         *                               configured idempotent that does not exist, or an idempotent function
         *                               without a store
         */
        public ItemFunctions build() {
            List<String> clashes = new ArrayList<>();
            Map<String, ItemFunction> unique = new LinkedHashMap<>();
            byName.forEach((name, functions) -> {
                if (functions.size() > 1) {
                    clashes.add("'" + name + "' is the name of " + String.join(" and ",
                            functions.stream().map(ItemFunction::signature).toList()));
                } else {
                    unique.put(name, functions.get(0));
                }
            });
            if (!clashes.isEmpty()) {
                throw new IllegalStateException("two functions share a name, so an item of that type could run"
                        + " either: " + String.join("; ", clashes) + ". Give each its own @Funq(\"name\")");
            }
            Map<String, IdempotencyKeys> idempotent = new TreeMap<>();
            unique.forEach((name, function) -> function.idempotency().ifPresent(keys -> idempotent.put(name, keys)));
            for (String name : idempotency.byName()) {
                if (!unique.containsKey(name)) {
                    throw new IllegalStateException("fanout.idempotency.functions (FANOUT_IDEMPOTENCY_FUNCTIONS) names '"
                            + name + "', which is no function (functions: " + String.join(", ", unique.keySet()) + ")");
                }
                idempotent.putIfAbsent(name, IdempotencyKeys.BY_ID);
            }
            if (!idempotent.isEmpty() && idempotency.store() == null) {
                throw new IllegalStateException("idempotent functions need a store, and none is configured: set"
                        + " fanout.idempotency.table (FANOUT_IDEMPOTENCY_TABLE) for " + idempotent.keySet().stream()
                        .map(name -> "'" + name + "' (" + unique.get(name).signature() + ")").toList());
            }
            return new ItemFunctions(unique, idempotent, idempotency, limits, mapper);
        }
    }

    /** Funqy's name for {@code method}: the {@code @Funq} value, or the method's name when it is empty. */
    public static String nameOf(Method method) {
        Funq funq = method.getAnnotation(Funq.class);
        return funq == null || funq.value().isEmpty() ? method.getName() : funq.value();
    }
}
