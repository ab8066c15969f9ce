package dev.fanout.function;

import java.math.BigDecimal;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import io.quarkus.funqy.Funq;

/**
 * A user's function of DynamoDB stream records ({@code fanout.streams.dynamodb-type=order-change}): it binds the
 * change as a record of plain values, no attribute-value wrappers. A Funqy function of the test classes, so every
 * {@code @QuarkusTest} application knows its type.
 */
public class OrderChange {

    // the image holds more attributes than this handler reads
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Order(String pk, long sk, BigDecimal total, Boolean paid) {
    }

    public record Keys(String pk, long sk) {
    }

    public record Change(String eventName, String eventId, String sequenceNumber, Long approximateCreationDateTime,
            Keys keys, Order newImage, Order oldImage, boolean expiredByTtl) {
    }

    public record Output(String order, String event, BigDecimal total, boolean expiredByTtl) {
    }

    @Funq("order-change")
    public Output change(Change change) {
        Order image = change.newImage() != null ? change.newImage() : change.oldImage();
        return new Output(change.keys().pk() + "/" + change.keys().sk(), change.eventName(), image.total(),
                change.expiredByTtl());
    }
}
