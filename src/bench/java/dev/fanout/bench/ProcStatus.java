package dev.fanout.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What Linux says about this process: peak and current resident memory, OS threads, open files.
 * Figures are -1 where {@code /proc} is not available.
 */
public final class ProcStatus {

    private static final Path STATUS = Path.of("/proc/self/status");

    private ProcStatus() {
    }

    /** Peak resident set size (VmHWM) in KiB. */
    public static long peakRssKib() {
        return field("VmHWM:");
    }

    /** Peak resident set size (VmHWM) of another process, in KiB. */
    public static long peakRssKib(long pid) {
        return field(Path.of("/proc", Long.toString(pid), "status"), "VmHWM:");
    }

    /** OS threads of this process: platform threads, carriers and JVM threads (virtual threads are not). */
    /**
     * CPU time (user + system) of process {@code pid} so far, in ms: fields 14 and 15 of /proc/PID/stat, in
     * clock ticks of 10 ms (USER_HZ 100, as on Linux on x86-64 and arm64).
     */
    public static long cpuMillis(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // after the command name, which may hold spaces, in parentheses
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static long threads() {
        return field("Threads:");
    }

    /** Open file descriptors (sockets included). */
    public static long openFiles() {
        String[] fds = new java.io.File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    /**
     * Resets VmHWM to the current RSS (Linux 4.0+, {@code clear_refs} value 5), so that the peak that follows
     * belongs to what runs next. Returns false where that is not possible.
     */
    public static boolean resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static long field(String name) {
        return field(STATUS, name);
    }

    private static long field(Path status, String name) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith(name)) {
                    return Long.parseLong(line.substring(name.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        return -1;
    }
}
