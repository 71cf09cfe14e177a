package dev.lowmem.tools.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * What one guest of stress-guest-memory measured, from the files its run directory holds
 * (console.log, rc, and the host side's counters when the stressed part began and ended:
 * tap-begin, tap-end, stats-begin, stats-end): the report's rows for its column, and its 100-ms
 * series. A stall is an interval under {@link #STALL_SHARE} of the median of the same back-end's
 * unstressed intervals in that direction (so a run of empty intervals is one, and so is a
 * trickle), the start-up left out ({@link RateSeries#withoutStartUp}).
 *
 * @param contender ours, qemu-tap or dpdk: which counters the host side has
 * @param squeezed whether the run had the squeeze's rows (--squeeze), with the module or without
 * @param udpMegabits the UDP stream's rate beside the stressed iperf3 -R, with --squeeze
 */
public record StressRun(Path directory, String contender, boolean squeezed, int udpMegabits) {
    public static final double STALL_SHARE = 0.10;
    // the frames dropped and where, a row of its own after the squeeze's (the seeds' scenario asks for it)
    static final int DROPPED_RANK = 27;
    static final List<String> DIRECTIONS = List.of("guest-to-host", "host-to-guest");
    static final List<String> PHASES = List.of("baseline", "stressed");
    // our back-end's counters in the table: these, then every key that matches OUR_PATTERN
    static final List<String> OUR_COUNTERS = List.of("rx_frames", "tx_frames", "rx_starved", "tx_kicks", "rx_kicks",
            "tx_interrupts", "rx_interrupts", "tx_port_full", "drops");
    static final Pattern OUR_PATTERN = Pattern.compile("^(rx_starved|rx_held|rx_backlog|pool_)|_drop_");
    static final List<String> DPDK_COUNTERS = List.of("rx_packets", "tx_packets", "tx_dropped", "rx_missed", "rx_nombuf");

    /** A row of the report: its rank orders the sections. */
    public record Row(int rank, String section, String label, String value) {
        String tsv() {
            return rank + "\t" + section + "\t" + label + "\t" + value;
        }
    }

    static String arrow(String direction) {
        return direction.equals("guest-to-host") ? "guest->host" : "host->guest";
    }

    private String console() throws IOException {
        Path console = directory.resolve("console.log");
        return Files.exists(console) ? Files.readString(console).replace("\r", "") : "";
    }

    private String file(String name) throws IOException {
        Path file = directory.resolve(name);
        return Files.exists(file) ? Files.readString(file) : "";
    }

    /** The receiver's intervals of the iperf3 run PHASE-DIRECTION; empty when it did not run. */
    static RateSeries series(String console, String phase, String direction) {
        String section = ConsoleSection.of(console, "iperf3 " + phase + "-" + direction);
        return new RateSeries(Iperf3Intervals.parse(section, direction.equals("guest-to-host")));
    }

    /** The rows of this run's column. */
    public List<Row> rows() throws IOException {
        String console = console();
        List<Row> rows = new ArrayList<>();
        int rank = 10;
        for (String direction : DIRECTIONS) {
            directionRows(console, direction, rank, rows);
            rank += 10;
        }
        if (squeezed) {
            squeezeRows(console, rows);
        }
        hogRows(console, rows);
        Counters guestDeltas = Counters.ofGuestLine(console, "stressed-end").minus(Counters.ofGuestLine(console, "stressed-begin"));
        add(rows, 40, "guest kernel (stressed)", guestDeltas.values());
        Counters tapBegin = Counters.ofLines(file("tap-begin"));
        Counters tapEnd = Counters.ofLines(file("tap-end"));
        boolean tap = !tapBegin.isEmpty() && !tapEnd.isEmpty();
        Counters tapDeltas = tap ? tapEnd.minus(tapBegin) : new Counters(Map.of());
        add(rows, 50, "host TAP (stressed)", tapDeltas.values());
        Counters statsBegin = Counters.ofBackendStats(file("stats-begin"));
        Counters statsEnd = Counters.ofBackendStats(file("stats-end"));
        Counters backendDeltas = statsBegin.isEmpty() || statsEnd.isEmpty() ? new Counters(Map.of()) : statsEnd.minus(statsBegin);
        if (contender.equals("ours") && !backendDeltas.isEmpty()) {
            ourRows(backendDeltas, rows);
            if (tap) {
                rows.add(new Row(60, "our back-end (stressed)", "frames read from the TAP, not delivered, not counted",
                        unaccounted(tapDeltas, backendDeltas, statsEnd)));
            }
        } else {
            backendDeltas.values().forEach((key, value) -> {
                int split = key.indexOf('_');
                if (split > 0 && DPDK_COUNTERS.contains(key.substring(split + 1))) {
                    rows.add(new Row(70, "testpmd ports (stressed)", key.substring(0, split) + "/" + key.substring(split + 1), value));
                }
            });
        }
        rows.add(new Row(DROPPED_RANK, "dropped (stressed)", "guest eth0 rx / host TAP tx / back-end",
                String.join(" / ", count(guestDeltas, "eth0_rx_dropped"), count(tapDeltas, "tx_dropped"), backendDrops(backendDeltas))));
        rows.add(new Row(80, "outcome", "guest", outcome(console)));
        return rows;
    }

    private static String count(Counters counters, String key) {
        OptionalLong value = counters.get(key);
        return value.isPresent() ? Long.toString(value.getAsLong()) : "-";
    }

    /**
     * The frames the back-end itself dropped: ours' drops (every rx_drop_* and tx_drop_* reason),
     * or testpmd's, frames it could not put into a port (tx_dropped) or did not take from one
     * (rx_missed, rx_nombuf), both ports; "-" without its counters (QEMU's tap netdev counts none).
     */
    private String backendDrops(Counters deltas) {
        if (deltas.isEmpty()) {
            return "-";
        }
        if (contender.equals("ours")) {
            return count(deltas, "drops");
        }
        long dropped = 0;
        for (String key : deltas.values().keySet()) {
            if (key.endsWith("_tx_dropped") || key.endsWith("_rx_missed") || key.endsWith("_rx_nombuf")) {
                dropped += deltas.get(key).orElse(0);
            }
        }
        return Long.toString(dropped);
    }

    private void directionRows(String console, String direction, int rank, List<Row> rows) {
        String section = arrow(direction);
        RateSeries unstressed = series(console, "baseline", direction);
        RateSeries stressed = series(console, "stressed", direction);
        rows.add(new Row(rank, section, "unstressed Mbit/s (retr)", summary(console, "baseline-" + direction)));
        rows.add(new Row(rank, section, "stressed Mbit/s (retr)", summary(console, "stressed-" + direction)));
        double floor = STALL_SHARE * unstressed.spread().median();
        RateSeries stressedAfterStartUp = stressed.withoutStartUp(floor);
        if (stressed.isEmpty()) {
            rows.add(new Row(rank, section, "stressed, 100 ms: median / lowest", "-"));
            rows.add(new Row(rank, section, "stalled 100 ms (< 10% of unstressed median)", "-"));
        } else {
            Spread spread = stressed.spread();
            rows.add(new Row(rank, section, "stressed, 100 ms: median / lowest", format("%.0f / %.0f", spread.median(), spread.min())));
            rows.add(new Row(rank, section, "stalled 100 ms (< 10% of unstressed median)", unstressed.isEmpty() ? "-"
                    : stressedAfterStartUp.countUnder(floor) + " of " + stressedAfterStartUp.intervals().size()));
        }
        rows.add(new Row(rank, section, "longest stall ms: unstressed / stressed", unstressed.isEmpty() ? "-"
                : format("%.0f / %s", unstressed.withoutStartUp(floor).longestStall(floor) * 1e3,
                        stressed.isEmpty() ? "-" : format("%.0f", stressedAfterStartUp.longestStall(floor) * 1e3))));
        if (squeezed) {
            SqueezeRecovery recovery = SqueezeRecovery.of(stressed, GuestClock.squeezesDuring(console, "stressed-" + direction));
            rows.add(new Row(rank, section, "back within after a squeeze, ms: median / worst", recovery.figures()));
        }
    }

    private static String summary(String console, String name) {
        try {
            Iperf3Result result = Iperf3Result.ofConsole(console, name);
            return format("%.0f (%s)", result.megabitsPerSecond(), result.retransmits() < 0 ? "?" : result.retransmits());
        } catch (IllegalArgumentException noSummary) {
            return "-";
        }
    }

    private void squeezeRows(String console, List<Row> rows) {
        String udp;
        try {
            Iperf3UdpResult result = Iperf3UdpResult.ofConsole(console, "stressed-udp");
            udp = format("%.1f, %d of %d (%.2f%%)", result.receivedBitsPerSecond() / 1e6, result.lost(), result.total(), result.lossPercent());
        } catch (IllegalArgumentException noStream) {
            udp = "-";
        }
        rows.add(new Row(25, "squeeze", "UDP h->g " + udpMegabits + " Mbit/s: got Mbit/s, lost (%)", udp));
        try {
            SqueezeStats.ofConsole(console).forEach((key, value) -> rows.add(new Row(25, "squeeze", "module: " + key, value.toString())));
        } catch (IllegalArgumentException squeezeOff) {
            // the module's counters: none with the squeeze off
        }
    }

    private static void hogRows(String console, List<Row> rows) {
        HogLines hog = HogLines.ofConsole(console);
        String section = "guest memory";
        if (hog.isEmpty()) {
            rows.add(new Row(30, section, "hog holds MB (median)", "-"));
            return;
        }
        rows.add(new Row(30, section, "hog holds MB (median)", format("%.1f", hog.spread("held_mb").median())));
        rows.add(new Row(30, section, "free MB: median / lowest",
                format("%.1f / %.1f", hog.spread("free_mb").median(), hog.spread("trough_mb").min())));
        rows.add(new Row(30, section, "watermarks MB: min / low; hog's floor", hog.watermarks()));
        rows.add(new Row(30, section, "zones at the dip: free / low MB (median)", hog.zoneMedians()));
        rows.add(new Row(30, section, "churn MB/s (median), periods cut", format("%.1f, %d", hog.spread("churn_mb").median(), hog.total("cut"))));
        rows.add(new Row(30, section, "hog CPU % (median)", format("%.1f", hog.spread("cpu_pct").median())));
    }

    private static void ourRows(Counters deltas, List<Row> rows) {
        String section = "our back-end (stressed)";
        for (String key : OUR_COUNTERS) {
            String value = deltas.values().get(key);
            if (value != null) {
                rows.add(new Row(60, section, key, value));
            }
        }
        deltas.values().forEach((key, value) -> {
            if (!OUR_COUNTERS.contains(key) && OUR_PATTERN.matcher(key).find()) {
                rows.add(new Row(60, section, key, value));
            }
        });
    }

    /**
     * Of the frames our back-end read from the TAP in the stressed part (the TAP's tx_packets),
     * those neither written into the guest (rx_frames) nor counted as dropped (rx_drop_*) nor
     * held at its end (backlog): 0 when every frame is accounted for. The counters are read a
     * few ms apart: a frame in flight between two readings shows here too.
     */
    static String unaccounted(Counters tapDeltas, Counters ourDeltas, Counters ourEnd) {
        OptionalLong fromTap = tapDeltas.get("tx_packets");
        if (fromTap.isEmpty()) {
            return "?";
        }
        long counted = 0;
        for (Map.Entry<String, String> counter : ourDeltas.values().entrySet()) {
            if (counter.getKey().equals("rx_frames") || counter.getKey().startsWith("rx_drop_")) {
                counted += ourDeltas.get(counter.getKey()).orElse(0);
            }
        }
        return Long.toString(fromTap.getAsLong() - counted - ourEnd.get("backlog").orElse(0));
    }

    private String outcome(String console) throws IOException {
        String rc = file("rc").strip();
        if (rc.equals("0")) {
            return "rc 0, hog alive to the end";
        }
        // the guest's own word for it, else iperf3's (a stream that failed under the squeeze)
        String error = console.lines().filter(line -> line.startsWith("GUEST-ERROR ")).findFirst()
                .map(line -> ": " + line.substring("GUEST-ERROR ".length()))
                .or(() -> console.lines().filter(line -> line.startsWith("iperf3: error - ")).findFirst().map(line -> ": " + line))
                .orElse("");
        return "rc " + (rc.isEmpty() ? "?" : rc) + error;
    }

    /**
     * The run's 100-ms series, a line an interval: PHASE DIRECTION END_S MBIT_S STALL (1 for an
     * interval under {@link #STALL_SHARE} of the unstressed median after the start-up, both phases).
     */
    public List<String> seriesLines() throws IOException {
        String console = console();
        List<String> lines = new ArrayList<>();
        for (String direction : DIRECTIONS) {
            double floor = STALL_SHARE * series(console, "baseline", direction).spread().median();
            for (String phase : PHASES) {
                RateSeries series = series(console, phase, direction);
                List<Iperf3Intervals.Interval> afterStartUp = series.withoutStartUp(floor).intervals();
                for (Iperf3Intervals.Interval interval : series.intervals()) {
                    boolean stall = afterStartUp.contains(interval) && interval.megabitsPerSecond() < floor;
                    lines.add(String.join("\t", phase, direction, format("%.2f", interval.end()),
                            format("%.1f", interval.megabitsPerSecond()), stall ? "1" : "0"));
                }
            }
        }
        return lines;
    }

    /** "g->h 1500 (0) -> 800 (3) Mbit/s, h->g ... Mbit/s, rc 0, hog alive to the end": a line for the run's progress. */
    public static String progress(List<Row> rows) {
        StringBuilder line = new StringBuilder();
        for (String direction : DIRECTIONS) {
            List<String> rates = rows.stream().filter(r -> r.section().equals(arrow(direction))
                    && (r.label().startsWith("unstressed Mbit") || r.label().startsWith("stressed Mbit"))).map(Row::value).toList();
            line.append(direction.equals("guest-to-host") ? "g->h " : " h->g ").append(String.join(" -> ", rates)).append(" Mbit/s,");
        }
        rows.stream().filter(r -> r.section().equals("outcome")).forEach(r -> line.append(' ').append(r.value()));
        return line.toString();
    }

    private static void add(List<Row> rows, int rank, String section, Map<String, String> values) {
        values.forEach((key, value) -> rows.add(new Row(rank, section, key, value)));
    }

    private static String format(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
