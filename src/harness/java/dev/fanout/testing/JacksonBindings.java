package dev.fanout.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationConfig;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBuilder;
import com.fasterxml.jackson.databind.deser.BeanDeserializerModifier;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.BeanPropertyWriter;
import com.fasterxml.jackson.databind.ser.BeanSerializerModifier;

import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;

/**
 * Records every class Jackson binds as a bean (through reflection: records, POJOs) while the tests run,
 * one class name a line in {@value #FILE}. NativeBuildStepsIT checks each against the reflection
 * metadata of Quarkus's native build steps. As a CDI bean it customises the application's ObjectMapper in
 * every {@code @QuarkusTest}; in-process tests wrap their own mapper with {@link #recording(ObjectMapper)}.
 */
@Singleton
public class JacksonBindings implements ObjectMapperCustomizer {

    public static final String FILE = "target/native-check/jackson-bound-classes.txt";

    /** Set by surefire's configuration: the unit-test run records, other JVMs (failsafe's) leave the file alone. */
    static final boolean ON = Boolean.getBoolean("record-jackson-bindings");

    private static final Set<String> SEEN = ConcurrentHashMap.newKeySet();

    static {
        // one file per unit-test run: a class bound in an earlier build must not stay on the list. Once per JVM,
        // not per class loader: each @QuarkusTest application loads this class again
        if (ON && System.getProperties().putIfAbsent("record-jackson-bindings.started", "true") == null) {
            try {
            Files.createDirectories(Path.of(FILE).getParent());
                Files.writeString(Path.of(FILE), "");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Override
    public void customize(ObjectMapper mapper) {
        mapper.registerModule(module());
    }

    public static ObjectMapper recording(ObjectMapper mapper) {
        return mapper.registerModule(module());
    }

    static SimpleModule module() {
        SimpleModule module = new SimpleModule("jackson-bindings-recorder");
        module.setSerializerModifier(new BeanSerializerModifier() {
            @Override
            public List<BeanPropertyWriter> changeProperties(SerializationConfig config, BeanDescription bean,
                    List<BeanPropertyWriter> properties) {
                record(bean.getBeanClass());
                return properties;
            }
        });
        module.setDeserializerModifier(new BeanDeserializerModifier() {
            @Override
            public BeanDeserializerBuilder updateBuilder(DeserializationConfig config, BeanDescription bean,
                    BeanDeserializerBuilder builder) {
                record(bean.getBeanClass());
                return builder;
            }
        });
        return module;
    }

    static void record(Class<?> type) {
        if (ON && SEEN.add(type.getName())) {
            try {
                Files.writeString(Path.of(FILE), type.getName() + "\n", StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
