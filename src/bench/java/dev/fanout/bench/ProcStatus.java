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

    /**
     * CPU time (user + system) of process {@code pid}'s Java main thread so far, in ms: the one task besides
     * the launcher's own (whose id is the process's) that keeps the launcher's name, {@code java}; the JVM
     * names its other threads. On a machine whose cores are shared, the main thread's CPU time follows the
     * work on the start's critical path, which the process's wall time does not.
     */
    public static long mainThreadCpuMillis(long pid) {
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return tasks.filter(task -> !task.getFileName().toString().equals(Long.toString(pid)))
                    .filter(task -> comm(task).equals("java")).mapToLong(task -> ticks(task.resolve("stat")))
                    .findFirst().orElse(-1) * 10;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String comm(Path task) {
        try {
            return Files.readString(task.resolve("comm")).trim();
        } catch (IOException e) {
            return ""; // the thread ended meanwhile
        }
    }

    private static long ticks(Path stat) {
        try {
            String line = Files.readString(stat);
            String[] fields = line.substring(line.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
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
