package dev.lowmem.tools.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The CPU time a process has used, all its threads, the ones gone included: {@code utime + stime}
 * of {@code /proc/PID/stat} (proc(5)), in clock ticks of 10 ms (USER_HZ is 100 on x86 Linux,
 * whatever the kernel's own HZ).
 */
public final class ProcessCpu {
    /** Seconds a tick of {@code /proc/PID/stat}'s times. */
    public static final double SECONDS_A_TICK = 0.01;

    private final Path proc;

    public ProcessCpu(Path proc) {
        this.proc = proc;
    }

    public static ProcessCpu host() {
        return new ProcessCpu(Path.of("/proc"));
    }

    /** utime + stime of process {@code pid}; empty when it is gone. */
    public OptionalLong ticks(long pid) {
        try {
            return OptionalLong.of(ticksOfStat(Files.readString(proc.resolve(Long.toString(pid)).resolve("stat"))));
        } catch (IOException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * utime + stime of a stat line: fields 14 and 15, counted after the command's closing
     * parenthesis (the command may hold spaces and parentheses itself).
     */
    static long ticksOfStat(String stat) {
        String[] after = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" +");
        // after[0] is field 3 (state): field N is after[N - 3]
        return Long.parseLong(after[14 - 3]) + Long.parseLong(after[15 - 3]);
    }

    /** The lowest pid whose command line holds {@code text} and whose command name starts with {@code command}; empty without one. */
    public OptionalLong find(String command, String text) throws IOException {
        long found = Long.MAX_VALUE;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(proc, "[0-9]*")) {
            for (Path entry : entries) {
                long pid = Long.parseLong(entry.getFileName().toString());
                if (pid < found && matches(entry, command, text)) {
                    found = pid;
                }
            }
        }
        return found == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(found);
    }

    private static boolean matches(Path entry, String command, String text) {
        try {
            String name = Files.readString(entry.resolve("comm")).strip();
            // the arguments are separated by NULs
            String cmdline = new String(Files.readAllBytes(entry.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
            return name.startsWith(command) && cmdline.contains(text);
        } catch (IOException e) {
            return false; // gone while we looked
        }
    }
}
