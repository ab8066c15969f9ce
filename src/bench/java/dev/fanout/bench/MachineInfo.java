package dev.fanout.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The machine and JDK the figures come from, as the report states them.
 *
 * @param cpuModel    from /proc/cpuinfo
 * @param nproc       output of {@code nproc}
 * @param memTotalKib from /proc/meminfo
 * @param kernel      os.name and os.version
 * @param javaVersion output of {@code java -version} of the launcher the children use
 * @param gitCommit   commit of the benchmarked code, with "-dirty" if the work tree had changes
 */
public record MachineInfo(String cpuModel, String nproc, long memTotalKib, String kernel, String javaVersion,
        String gitCommit) {

    public static MachineInfo probe() {
        return new MachineInfo(
                procField(Path.of("/proc/cpuinfo"), "model name"),
                command("nproc"),
                parseKib(procField(Path.of("/proc/meminfo"), "MemTotal")),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
                command(ChildJvm.javaBinary(), "-version"),
                probeGitCommit());
    }

    private static String probeGitCommit() {
        String head = command("git", "rev-parse", "--short=12", "HEAD");
        String status = command("git", "status", "--porcelain", "--untracked-files=no");
        return status.isBlank() ? head : head + "-dirty";
    }

    private static String procField(Path file, String name) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(name)) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        return "unknown";
    }

    private static long parseKib(String value) {
        try {
            return Long.parseLong(value.split("\\s+")[0]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Stdout and stderr of a short command, trimmed; "unknown" if it cannot run. */
    static String command(String... command) {
        try {
            Process process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0 ? out : "unknown";
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }
}
