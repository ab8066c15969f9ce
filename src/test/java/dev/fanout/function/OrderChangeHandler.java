package dev.fanout.function;

import java.math.BigDecimal;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import dev.fanout.work.ItemType;
import dev.fanout.work.WorkContext;
import dev.fanout.work.WorkHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;

/**
 * A user's handler of DynamoDB stream records ({@code fanout.streams.dynamodb-type=order-change}): it binds the
 * change as a record of plain values, no attribute-value wrappers. An alternative, selected by the profiles that
 * use it, so that the other tests' applications do not know its type.
 */
@Alternative
@ApplicationScoped
@ItemType("order-change")
public class OrderChangeHandler implements WorkHandler {

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

    @Override
    public Object handle(WorkContext context) {
        Change change = context.payload(Change.class);
        Order image = change.newImage() != null ? change.newImage() : change.oldImage();
        return new Output(change.keys().pk() + "/" + change.keys().sk(), change.eventName(), image.total(),
                change.expiredByTtl());
    }
}
