package dev.fanout.engine;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.sun.management.HotSpotDiagnosticMXBean;

/** Thread dumps that include virtual threads (the JSON format of JDK 21+). */
final class ThreadDumps {

    private ThreadDumps() {
    }

    static String json() throws Exception {
        Path dir = Files.createTempDirectory("fanout-dump");
        Path file = dir.resolve("threads.json");
        try {
            ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                    .dumpThreads(file.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
            return Files.readString(file);
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    static int countNamed(String dump, String prefix) {
        Matcher m = Pattern.compile("\"name\":\\s*\"" + Pattern.quote(prefix)).matcher(dump);
        int count = 0;
        while (m.find()) {
            count++;
        }
        return count;
    }
}
