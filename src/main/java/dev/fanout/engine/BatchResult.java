package dev.fanout.engine;

import java.util.List;

/**
 * The result of one run: one outcome per item, in input order, and the run's figures.
 */
public record BatchResult<R>(List<Outcome<R>> outcomes, RunSummary summary) {

    public BatchResult {
        outcomes = List.copyOf(outcomes);
    }

    public Outcome<R> outcome(int index) {
        return outcomes.get(index);
    }
}
