package dev.lowmem.guest;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * One of the backend's JSON counter lines, each pair's counters summed over the pairs:
 * {@code get("tx_frames")}, {@code drops()}, {@code get("worker_alloc_bytes")}, and the JVM's
 * {@code get("gc_collections")}. Keys are the command's; a key it does not print reads 0.
 */
public record BackendStats(String negotiated, Map<String, Long> totals) {
    private static final Pattern NEGOTIATED = Pattern.compile("\"negotiated\":\"([^\"]*)\"");
    private static final Pattern COUNTER = Pattern.compile("\"(\\w+)\":(\\d+)");

    static boolean isStatsLine(String line) {
        return line.startsWith("{") && line.contains("\"pairs\":");
    }

    static BackendStats parse(String line) {
        Matcher negotiated = NEGOTIATED.matcher(line);
        Map<String, Long> totals = new HashMap<>();
        Matcher counter = COUNTER.matcher(line);
        while (counter.find()) {
            if (!counter.group(1).equals("pair")) {
                totals.merge(counter.group(1), Long.parseLong(counter.group(2)), Long::sum);
            }
        }
        return new BackendStats(negotiated.find() ? negotiated.group(1) : "", Map.copyOf(totals));
    }

    public long get(String key) {
        return totals.getOrDefault(key, 0L);
    }

    public long drops() {
        return get("drops");
    }

    /** Rings stopped on a fault, and errors a worker survived outside its rings: 0 in a healthy run. */
    public long faults() {
        return get("tx_faults") + get("rx_faults") + get("worker_errors");
    }

    /** The counters that grew from {@code before} to this snapshot. */
    public BackendStats since(BackendStats before) {
        Map<String, Long> grown = new HashMap<>();
        totals.forEach((key, value) -> grown.put(key, value - before.get(key)));
        return new BackendStats(negotiated, Map.copyOf(grown));
    }

    /** "rx_drop_no_room=0 rx_starved=3": the counters whose names {@code wanted} accepts, by name. */
    public String counters(Predicate<String> wanted) {
        return totals.entrySet().stream().filter(entry -> wanted.test(entry.getKey())).sorted(Map.Entry.comparingByKey())
                .map(entry -> entry.getKey() + "=" + entry.getValue()).collect(Collectors.joining(" "));
    }

    /** "tx 1204 frames 98304 B, rx ..., drops 0, ...": the line a person reads. */
    public String summary() {
        return String.format("tx %d frames %d B, rx %d frames %d B, kicks tx %d rx %d, interrupts tx %d rx %d, rx starved %d,"
                + " drops %d, faults %d, workers allocated %d B, gc %d", get("tx_frames"), get("tx_bytes"), get("rx_frames"),
                get("rx_bytes"), get("tx_kicks"), get("rx_kicks"), get("tx_interrupts"), get("rx_interrupts"),
                get("rx_starved"), drops(), faults(), get("worker_alloc_bytes"), get("gc_collections"));
    }
}
