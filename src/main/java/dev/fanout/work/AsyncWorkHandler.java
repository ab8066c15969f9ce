package dev.fanout.work;

import io.smallrye.mutiny.Uni;

/**
 * What one item of a type does, asynchronously: a Mutiny {@link Uni} of the output. The item's virtual thread
 * waits for the {@code Uni} ({@link UniAwait}) and holds its concurrency slot until it ends; an unfinished one
 * is cancelled at the item's deadline.
 * Registered like {@link WorkHandler}: a CDI bean qualified {@code @ItemType("...")}.
 */
@FunctionalInterface
public interface AsyncWorkHandler {

    Uni<?> handle(WorkContext context) throws Exception;
}
