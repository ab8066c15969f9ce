package dev.fanout.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A grouped bar chart drawn with Java2D: one group per category, one bar per series, the value on each
 * bar, marked bars flagged with an asterisk.
 */
final class BarChart {

    /** One series of bars; {@code marked[i]} flags bar i (e.g. an extrapolated figure). */
    record Series(String name, Color color, double[] values, boolean[] marked) {
    }

    private static final int WIDTH = 1200;
    private static final int HEIGHT = 620;
    private static final int LEFT = 90;
    private static final int RIGHT = 30;
    private static final int TOP = 90;
    private static final int BOTTOM = 130;

    private BarChart() {
    }

    static BufferedImage render(String title, String axisLabel, List<String> categories, List<Series> series,
            double maxValue, String footnote) {
        System.setProperty("java.awt.headless", "true");
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);

            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 17));
            g.drawString(title, LEFT - 60, 32);

            int plotWidth = WIDTH - LEFT - RIGHT;
            int plotHeight = HEIGHT - TOP - BOTTOM;
            int baseline = TOP + plotHeight;
            drawAxis(g, axisLabel, maxValue, plotWidth, plotHeight, baseline);
            drawLegend(g, series);

            double groupWidth = (double) plotWidth / categories.size();
            double barWidth = groupWidth * 0.75 / series.size();
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (int c = 0; c < categories.size(); c++) {
                double groupLeft = LEFT + c * groupWidth + groupWidth * 0.125;
                for (int s = 0; s < series.size(); s++) {
                    Series line = series.get(s);
                    double value = line.values()[c];
                    int height = (int) Math.round(Math.min(value, maxValue) / maxValue * plotHeight);
                    int x = (int) Math.round(groupLeft + s * barWidth);
                    g.setColor(line.color());
                    g.fillRect(x, baseline - height, (int) Math.round(barWidth) - 2, height);
                    g.setColor(Color.DARK_GRAY);
                    String text = formatValue(value) + (line.marked()[c] ? "*" : "");
                    FontMetrics fm = g.getFontMetrics();
                    g.drawString(text, x + ((int) barWidth - 2 - fm.stringWidth(text)) / 2, baseline - height - 4);
                }
                drawCategory(g, categories.get(c), LEFT + c * groupWidth, groupWidth, baseline);
            }

            g.setColor(Color.DARK_GRAY);
            g.setFont(new Font(Font.SANS_SERIF, Font.ITALIC, 13));
            g.drawString(footnote, LEFT, HEIGHT - 14);
        } finally {
            g.dispose();
        }
        return image;
    }

    private static void drawAxis(Graphics2D g, String axisLabel, double maxValue, int plotWidth, int plotHeight,
            int baseline) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = g.getFontMetrics();
        for (int i = 0; i <= 5; i++) {
            double value = maxValue * i / 5;
            int y = baseline - (int) Math.round(plotHeight * i / 5.0);
            g.setColor(new Color(0xE0E0E0));
            g.drawLine(LEFT, y, LEFT + plotWidth, y);
            g.setColor(Color.DARK_GRAY);
            String text = formatValue(value);
            g.drawString(text, LEFT - 8 - fm.stringWidth(text), y + 4);
        }
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(1.5f));
        g.drawLine(LEFT, baseline, LEFT + plotWidth, baseline);
        g.drawLine(LEFT, TOP, LEFT, baseline);
        Graphics2D rotated = (Graphics2D) g.create();
        rotated.rotate(-Math.PI / 2);
        rotated.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        rotated.drawString(axisLabel, -(TOP + plotHeight / 2 + rotated.getFontMetrics().stringWidth(axisLabel) / 2), 30);
        rotated.dispose();
    }

    private static void drawLegend(Graphics2D g, List<Series> series) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        int x = LEFT;
        for (Series s : series) {
            g.setColor(s.color());
            g.fillRect(x, 52, 16, 16);
            g.setColor(Color.BLACK);
            g.drawString(s.name(), x + 22, 66);
            x += 40 + g.getFontMetrics().stringWidth(s.name());
        }
    }

    /** The category name under its group, broken into lines that fit the group's width. */
    private static void drawCategory(Graphics2D g, String name, double left, double width, int baseline) {
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        FontMetrics fm = g.getFontMetrics();
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : name.split(" ")) {
            String candidate = line.isEmpty() ? word : line + " " + word;
            if (fm.stringWidth(candidate) > width - 6 && !line.isEmpty()) {
                lines.add(line.toString());
                line = new StringBuilder(word);
            } else {
                line = new StringBuilder(candidate);
            }
        }
        lines.add(line.toString());
        int y = baseline + 20;
        for (String text : lines) {
            g.drawString(text, (int) Math.round(left + (width - fm.stringWidth(text)) / 2), y);
            y += fm.getHeight();
        }
    }

    private static String formatValue(double value) {
        return value >= 10 || value == 0 ? String.format(Locale.ROOT, "%.0f", value)
                : String.format(Locale.ROOT, "%.1f", value);
    }
}
