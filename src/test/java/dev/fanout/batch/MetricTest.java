package dev.fanout.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** Metric names and units; that each is written by some path is MetricNamesTest's (function/). */
class MetricTest {

    @Test
    void eachMetricIsFoundByItsKeyWithItsUnit() {
        assertThat(Metric.byKey("records")).contains(Metric.RECORDS);
        assertThat(Metric.byKey("engineMs")).contains(Metric.ENGINE_MS);
        assertThat(Metric.byKey("refusedResults")).isEmpty();
        assertThat(Metric.unitOf("delayMaxSeconds")).contains(Metric.Unit.SECONDS);
        assertThat(Metric.unitOf("timeLeftMs")).contains(Metric.Unit.MILLISECONDS);
        assertThat(Metric.unitOf("batchItemFailures")).contains(Metric.Unit.COUNT);
        assertThat(Metric.unitOf("items")).contains(Metric.Unit.COUNT);
        assertThat(Metric.Unit.MILLISECONDS.emfName()).isEqualTo("Milliseconds");
        assertThat(Arrays.stream(Metric.values()).map(Metric::key).distinct()).hasSize(Metric.values().length);
    }

    @Test
    void perTypeCountsAreCountsAndOtherNamesAreNotMetrics() {
        assertThat(Metric.unitOf(SummaryFigures.TYPE_ITEMS + "digest")).contains(Metric.Unit.COUNT);
        assertThat(Metric.unitOf(SummaryFigures.TYPE_FAILURES + "digest")).contains(Metric.Unit.COUNT);
        assertThat(Metric.unitOf("itemsdigest")).isEmpty();
        assertThat(Metric.unitOf("event")).isEmpty();
    }
}
