package dev.fanout.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.image.BufferedImage;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.HorizontalAlignment;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.CategoryDataset;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * A grouped bar chart, drawn by JFreeChart: one group per category, one bar per series, the value on each
 * bar, marked bars flagged with an asterisk. Where the values span two orders of magnitude or more, the
 * value axis is logarithmic, so that the bars of the slow strategies stay visible beside the fast ones.
 */
final class BarChart {

    /** One series of bars; {@code marked[i]} flags bar i (e.g. an extrapolated figure). */
    record Series(String name, Color color, double[] values, boolean[] marked) {
    }

    private static final int WIDTH = 1200;
    private static final int HEIGHT = 620;
    /** Largest over smallest positive value from which the axis is logarithmic. */
    static final double LOG_AXIS_SPAN = 100;

    private BarChart() {
    }

    /** @param maxValue the top of a linear axis; a logarithmic axis reaches past the largest value instead */
    static BufferedImage render(String title, String axisLabel, List<String> categories, List<Series> series,
            double maxValue, String footnote) {
        System.setProperty("java.awt.headless", "true");
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (Series line : series) {
            for (int c = 0; c < categories.size(); c++) {
                data.addValue(line.values()[c], line.name(), categories.get(c));
            }
        }
        CategoryPlot plot = new CategoryPlot(data, categoryAxis(), valueAxis(axisLabel, series, maxValue),
                renderer(series));
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlineStroke(new BasicStroke(1f));
        plot.setOutlineVisible(false);

        JFreeChart chart = new JFreeChart(null, new Font(Font.SANS_SERIF, Font.BOLD, 17), plot, true);
        TextTitle heading = new TextTitle(title, new Font(Font.SANS_SERIF, Font.BOLD, 17));
        heading.setHorizontalAlignment(HorizontalAlignment.LEFT);
        heading.setPadding(10, 10, 6, 10);
        chart.setTitle(heading);
        chart.getLegend().setPosition(RectangleEdge.TOP);
        chart.getLegend().setHorizontalAlignment(HorizontalAlignment.LEFT);
        chart.getLegend().setFrame(BlockBorder.NONE);
        TextTitle note = new TextTitle(footnote, new Font(Font.SANS_SERIF, Font.ITALIC, 13));
        note.setPosition(RectangleEdge.BOTTOM);
        note.setHorizontalAlignment(HorizontalAlignment.LEFT);
        note.setPadding(8, 10, 4, 10);
        chart.addSubtitle(note);
        chart.setBackgroundPaint(Color.WHITE);
        return chart.createBufferedImage(WIDTH, HEIGHT);
    }

    /** Whether the positive values span {@link #LOG_AXIS_SPAN} or more. */
    static boolean needsLogAxis(List<Series> series) {
        double[] positive = series.stream().flatMapToDouble(s -> Arrays.stream(s.values())).filter(v -> v > 0).toArray();
        if (positive.length == 0) {
            return false;
        }
        return Arrays.stream(positive).max().orElseThrow() / Arrays.stream(positive).min().orElseThrow() >= LOG_AXIS_SPAN;
    }

    private static CategoryAxis categoryAxis() {
        CategoryAxis axis = new CategoryAxis();
        axis.setTickLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        axis.setMaximumCategoryLabelLines(4);
        axis.setMaximumCategoryLabelWidthRatio(1.3f);
        axis.setCategoryLabelPositions(CategoryLabelPositions.STANDARD);
        axis.setCategoryMargin(0.25);
        return axis;
    }

    private static ValueAxis valueAxis(String label, List<Series> series, double maxValue) {
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
        if (needsLogAxis(series)) {
            double min = series.stream().flatMapToDouble(s -> Arrays.stream(s.values())).filter(v -> v > 0).min().orElse(1);
            double max = series.stream().flatMapToDouble(s -> Arrays.stream(s.values())).max().orElse(1);
            LogAxis axis = new LogAxis(label + " (log scale)");
            axis.setBase(10);
            axis.setRange(Math.pow(10, Math.floor(Math.log10(min))), Math.pow(10, Math.ceil(Math.log10(max * 1.5))));
            // one tick per power of ten: the unit is in log space
            DecimalFormat plain = new DecimalFormat("#,##0.###", DecimalFormatSymbols.getInstance(Locale.ROOT));
            axis.setTickUnit(new NumberTickUnit(1, plain));
            axis.setNumberFormatOverride(plain); // 0.1, 1, 10 rather than powers of ten
            axis.setTickLabelFont(font);
            return axis;
        }
        NumberAxis axis = new NumberAxis(label);
        axis.setRange(0, maxValue);
        axis.setTickLabelFont(font);
        return axis;
    }

    private static BarRenderer renderer(List<Series> series) {
        BarRenderer renderer = new BarRenderer();
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setItemMargin(0.05);
        for (int s = 0; s < series.size(); s++) {
            renderer.setSeriesPaint(s, series.get(s).color());
        }
        renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator() {
            @Override
            public String generateLabel(CategoryDataset dataset, int row, int column) {
                Series line = series.get(row);
                return formatValue(line.values()[column]) + (line.marked()[column] ? "*" : "");
            }
        });
        renderer.setDefaultItemLabelsVisible(true);
        renderer.setDefaultItemLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        renderer.setDefaultPositiveItemLabelPosition(
                new ItemLabelPosition(ItemLabelAnchor.OUTSIDE12, TextAnchor.BOTTOM_CENTER));
        return renderer;
    }

    private static String formatValue(double value) {
        return value >= 10 || value == 0 ? String.format(Locale.ROOT, "%.0f", value)
                : value >= 1 ? String.format(Locale.ROOT, "%.1f", value)
                : String.format(Locale.ROOT, "%.2g", value);
    }
}
