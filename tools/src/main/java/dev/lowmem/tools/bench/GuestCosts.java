package dev.lowmem.tools.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What each frame of a guest's measured run cost, from the guest's {@code GUEST-COSTS before} and
 * {@code after} lines (guest-tests/guest/guest-costs) and the host processes' CPU in the same window
 * ({@link CpuWindow}): the frames are eth0's packets the way the data went (TX for guest->host, RX
 * for host->guest; with TSO and mergeable buffers a frame carries up to 64 KiB), and per frame
 * the driver's kicks, the interrupts it took, the KiB it carried, and the microseconds of CPU the
 * guest (its vCPU busy) and each host process used.
 */
public record GuestCosts(long frames, double kicks, double interrupts, double kib, double guestCpuUs,
        Map<String, Double> hostCpuUs) {
    /** The way the data went: which of eth0's counters are the run's frames. */
    public enum Way {
        TX, RX
    }

    public GuestCosts {
        hostCpuUs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(hostCpuUs));
    }

    public static GuestCosts of(String console, Way way, Map<String, Double> hostCpuSeconds) {
        Counters before = Counters.ofGuestLine(console, "GUEST-COSTS", "before");
        Counters after = Counters.ofGuestLine(console, "GUEST-COSTS", "after");
        if (before.isEmpty() || after.isEmpty()) {
            throw new IllegalArgumentException("no GUEST-COSTS before and after lines in the console");
        }
        Counters delta = after.minus(before);
        String prefix = way == Way.TX ? "tx_" : "rx_";
        long frames = count(delta, prefix + "packets");
        if (frames <= 0) {
            throw new IllegalArgumentException("no frames " + way + " between the GUEST-COSTS lines");
        }
        Map<String, Double> host = new LinkedHashMap<>();
        hostCpuSeconds.forEach((name, seconds) -> host.put(name, seconds * 1e6 / frames));
        return new GuestCosts(frames, (double) count(delta, "kicks") / frames, (double) count(delta, "interrupts") / frames,
                count(delta, prefix + "bytes") / 1024.0 / frames,
                count(delta, "cpu_busy") * ProcessCpu.SECONDS_A_TICK * 1e6 / frames, host);
    }

    private static long count(Counters delta, String key) {
        return delta.get(key).orElseThrow(() -> new IllegalArgumentException("GUEST-COSTS lines without " + key));
    }

    /** "METRIC VALUE" lines, what the bench records: kicks, interrupts, KiB, guest-cpu-us, then NAME-cpu-us a host process, and host-cpu-us, their sum. */
    public List<String> lines() {
        List<String> lines = new ArrayList<>();
        lines.add(line("kicks", kicks));
        lines.add(line("interrupts", interrupts));
        lines.add(line("KiB", kib));
        lines.add(line("guest-cpu-us", guestCpuUs));
        hostCpuUs.forEach((name, us) -> lines.add(line(name + "-cpu-us", us)));
        lines.add(line("host-cpu-us", hostCpuUs.values().stream().mapToDouble(Double::doubleValue).sum()));
        return lines;
    }

    private static String line(String metric, double value) {
        return String.format(Locale.ROOT, "%s %.4f", metric, value);
    }
}
