package dev.fanout.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.List;

import org.junit.jupiter.api.Test;

class BarChartTest {

    private static BarChart.Series series(double... values) {
        return new BarChart.Series("s", Color.BLUE, values, new boolean[values.length]);
    }

    @Test
    void valuesThatSpanTwoOrdersOfMagnitudeGetALogAxis() {
        assertThat(BarChart.needsLogAxis(List.of(series(430, 92), series(11, 0.0947)))).isTrue();
        assertThat(BarChart.needsLogAxis(List.of(series(100, 1)))).isTrue();
    }

    @Test
    void valuesWithinTwoOrdersOfMagnitudeKeepALinearAxis() {
        assertThat(BarChart.needsLogAxis(List.of(series(92, 20), series(22, 1.5)))).isFalse();
        assertThat(BarChart.needsLogAxis(List.of(series(0, 0)))).isFalse();
    }

    @Test
    void theChartIsDrawnAtItsSize() {
        BufferedImage image = BarChart.render("t", "axis", List.of("a", "b"),
                List.of(new BarChart.Series("s", Color.BLUE, new double[] {430, 0.1}, new boolean[] {false, true})),
                440, "note");
        assertThat(image.getWidth()).isEqualTo(1200);
        assertThat(image.getHeight()).isEqualTo(620);
    }
}
