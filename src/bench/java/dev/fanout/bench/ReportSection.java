package dev.fanout.bench;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * A workload's part of the report.
 *
 * @param id        the workload id, for tests and anchors
 * @param title     section heading
 * @param keyFigures one-line findings for the summary at the top of the report, written from the figures
 * @param markdown  the section body
 * @param charts    images the body links to, written next to the report
 */
public record ReportSection(String id, String title, List<String> keyFigures, String markdown, List<Chart> charts) {

    /** An image file of the report. */
    public record Chart(String fileName, BufferedImage image) {
    }

    public ReportSection {
        keyFigures = List.copyOf(keyFigures);
        charts = List.copyOf(charts);
    }
}
