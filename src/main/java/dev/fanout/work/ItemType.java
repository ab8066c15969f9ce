package dev.fanout.work;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import jakarta.enterprise.util.AnnotationLiteral;
import jakarta.inject.Qualifier;

/**
 * Names the item type a {@link WorkHandler} or {@link AsyncWorkHandler} bean serves:
 * {@code @ItemType("geocode")}. A qualifier rather than {@code @Named}, so that item types never collide
 * with the application's other bean names (the Lambda entry points are {@code @Named("sqs")} and
 * {@code @Named("http")}, and {@code http} is also an item type).
 */
@Qualifier
@Retention(RetentionPolicy.RUNTIME)
@Target({ ElementType.TYPE, ElementType.METHOD, ElementType.FIELD, ElementType.PARAMETER })
public @interface ItemType {

    String value();

    /** For looking a handler up in code: {@code Instance.select(ItemType.Literal.of("http"))}. */
    final class Literal extends AnnotationLiteral<ItemType> implements ItemType {
        private final String value;

        private Literal(String value) {
            this.value = value;
        }

        public static Literal of(String value) {
            return new Literal(value);
        }

        @Override
        public String value() {
            return value;
        }
    }
}
