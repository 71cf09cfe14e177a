package dev.lowmem.tools.bench;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The CPU the host's processes of a guest run used while the guest measured: the guest prints a
 * {@code GUEST-COSTS before} line just before its measured run and a {@code GUEST-COSTS after}
 * line just after (guest-tests/guest/guest-costs), and this, fed its console as it grows, reads
 * each process's CPU time ({@link ProcessCpu}) as each line arrives. Its window is the guest's to
 * within the console's delay (QEMU writes a line to the log as the guest prints it), so the guest's
 * counters and the host's CPU cover the same work.
 */
public final class CpuWindow {
    static final String BEFORE = "GUEST-COSTS before";
    static final String AFTER = "GUEST-COSTS after";

    /** A process to watch: by its pid, or (pid 0) the first whose command starts with {@code command} and whose command line holds {@code text}. */
    public record Watched(String name, long pid, String command, String text) {
        /** "NAME=PID", or "NAME=COMMAND:TEXT" for a process found when the window opens (QEMU, by its console log's path). */
        public static Watched parse(String spec) {
            int equals = spec.indexOf('=');
            if (equals <= 0) {
                throw new IllegalArgumentException("a process is NAME=PID or NAME=COMMAND:TEXT, not " + spec);
            }
            String name = spec.substring(0, equals);
            String what = spec.substring(equals + 1);
            int colon = what.indexOf(':');
            if (colon < 0) {
                return new Watched(name, Long.parseLong(what), "", "");
            }
            return new Watched(name, 0, what.substring(0, colon), what.substring(colon + 1));
        }
    }

    private final ProcessCpu cpu;
    private final List<Watched> watched;
    private final Map<String, Long> pids = new LinkedHashMap<>();
    private final Map<String, Long> before = new LinkedHashMap<>();
    private final Map<String, Double> seconds = new LinkedHashMap<>();
    private final StringBuilder partial = new StringBuilder();
    private boolean opened;
    private boolean closed;

    public CpuWindow(ProcessCpu cpu, List<Watched> watched) {
        this.cpu = cpu;
        this.watched = List.copyOf(watched);
    }

    /** The console's next characters; true once the window has closed. */
    public boolean feed(CharSequence text) throws IOException {
        for (int i = 0; i < text.length() && !closed; i++) {
            char c = text.charAt(i);
            if (c != '\n') {
                partial.append(c);
                continue;
            }
            String line = partial.toString().replace("\r", "");
            partial.setLength(0);
            if (!opened && line.startsWith(BEFORE)) {
                open();
            } else if (opened && line.startsWith(AFTER)) {
                close();
            }
        }
        return closed;
    }

    private void open() throws IOException {
        for (Watched process : watched) {
            OptionalLong pid = process.pid() > 0 ? OptionalLong.of(process.pid()) : cpu.find(process.command(), process.text());
            if (pid.isEmpty()) {
                continue; // not running: left out of the result, not guessed
            }
            OptionalLong ticks = cpu.ticks(pid.getAsLong());
            if (ticks.isPresent()) {
                pids.put(process.name(), pid.getAsLong());
                before.put(process.name(), ticks.getAsLong());
            }
        }
        opened = true;
    }

    private void close() {
        before.forEach((name, ticks) -> cpu.ticks(pids.get(name))
                .ifPresent(after -> seconds.put(name, (after - ticks) * ProcessCpu.SECONDS_A_TICK)));
        closed = true;
    }

    /** Seconds of CPU each process used inside the window, those it could read at both ends; empty until it closed. */
    public Map<String, Double> seconds() {
        return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(seconds));
    }

    public boolean closed() {
        return closed;
    }
}
