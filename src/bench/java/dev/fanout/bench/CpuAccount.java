package dev.fanout.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How much of the machine's CPU went to other processes while the suite ran: the machine's busy time
 * (/proc/stat) minus the suite's own and its waited-for children's (/proc/self/stat). On a shared machine
 * this is the first thing to check before trusting the figures.
 */
record CpuAccount(long machineBusyTicks, long machineTotalTicks, long ownTicks) {

    /** Readings now; all zero where /proc is not available. */
    static CpuAccount now() {
        try {
            String[] cpu = Files.readAllLines(Path.of("/proc/stat")).getFirst().trim().split("\\s+");
            long[] t = new long[cpu.length - 1];
            for (int i = 1; i < cpu.length; i++) {
                t[i - 1] = Long.parseLong(cpu[i]);
            }
            // user nice system idle iowait irq softirq steal
            long busy = t[0] + t[1] + t[2] + t[5] + t[6] + t[7];
            long total = busy + t[3] + t[4];
            String self = Files.readString(Path.of("/proc/self/stat"));
            String[] f = self.substring(self.lastIndexOf(')') + 2).trim().split("\\s+");
            // fields 14-17 of stat (utime stime cutime cstime) are 11-14 after the state field
            long own = Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
            return new CpuAccount(busy, total, own);
        } catch (IOException | RuntimeException e) {
            return new CpuAccount(0, 0, 0);
        }
    }

    /** Share of the machine's CPU time since {@code start} used by processes other than the suite's. */
    double othersShareSince(CpuAccount start) {
        long total = machineTotalTicks - start.machineTotalTicks;
        if (total <= 0) {
            return Double.NaN;
        }
        long others = (machineBusyTicks - start.machineBusyTicks) - (ownTicks - start.ownTicks);
        return Math.max(0, (double) others / total);
    }

    /** The 1, 5 and 15-minute load averages. */
    static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return parts[0] + " / " + parts[1] + " / " + parts[2];
        } catch (IOException e) {
            return "unknown";
        }
    }
}
