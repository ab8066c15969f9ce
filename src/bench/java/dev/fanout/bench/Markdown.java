package dev.fanout.bench;

import java.util.List;
import java.util.Locale;

/**
 * Small helpers to write the report's tables and numbers.
 */
final class Markdown {

    private Markdown() {
    }

    /** A table of figures: the first column is left-aligned, the others right-aligned. */
    static String table(List<String> header, List<List<String>> rows) {
        return table(header, rows, 1);
    }

    /** A table of text: every column left-aligned. */
    static String textTable(List<String> header, List<List<String>> rows) {
        return table(header, rows, header.size());
    }

    private static String table(List<String> header, List<List<String>> rows, int leftColumns) {
        StringBuilder out = new StringBuilder();
        out.append("| ").append(String.join(" | ", header)).append(" |\n|");
        for (int i = 0; i < header.size(); i++) {
            out.append(i < leftColumns ? " :--- |" : " ---: |");
        }
        out.append('\n');
        for (List<String> row : rows) {
            out.append("| ").append(String.join(" | ", row)).append(" |\n");
        }
        return out.toString();
    }

    /** Three significant digits, with thousands separators above 1,000. */
    static String num(double value) {
        if (!Double.isFinite(value)) {
            return "n/a";
        }
        double abs = Math.abs(value);
        if (abs >= 100 || value == Math.rint(value)) {
            return String.format(Locale.ROOT, "%,.0f", value);
        }
        if (abs >= 10) {
            return String.format(Locale.ROOT, "%.1f", value);
        }
        if (abs >= 1) {
            return String.format(Locale.ROOT, "%.2f", value);
        }
        return new java.math.BigDecimal(value).round(new java.math.MathContext(3)).stripTrailingZeros().toPlainString();
    }

    static String integer(long value) {
        return String.format(Locale.ROOT, "%,d", value);
    }

    /** {@code median (min–max)}. */
    static String range(Stats stats) {
        if (stats.count() == 1 || stats.min() == stats.max()) {
            return num(stats.median());
        }
        return num(stats.median()) + " (" + num(stats.min()) + "–" + num(stats.max()) + ")";
    }

    /** A ratio such as {@code ×12.3}. */
    static String times(double ratio) {
        return "×" + num(ratio);
    }

    /** A price per unit as a plain decimal, e.g. 0.0000166667. */
    static String price(double value) {
        return new java.math.BigDecimal(String.valueOf(value)).toPlainString();
    }

    static String percent(double fraction) {
        return num(fraction * 100) + " %";
    }
}
