package dev.lowmem.guest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * One of the backend's JSON counter lines, each pair's counters summed over the pairs:
 * {@code get("tx_frames")}, {@code drops()}, {@code get("worker_alloc_bytes")}, and the JVM's
 * {@code get("gc_collections")}; and each pair's own, {@code pair(1, "rx_frames")}. Keys are the
 * command's; a key it does not print reads 0.
 */
public record BackendStats(String negotiated, Map<String, Long> totals, List<Map<String, Long>> pairs) {
    private static final Pattern NEGOTIATED = Pattern.compile("\"negotiated\":\"([^\"]*)\"");
    private static final Pattern COUNTER = Pattern.compile("\"(\\w+)\":(\\d+)");
    private static final String PAIR_START = "{\"pair\":";

    static boolean isStatsLine(String line) {
        return line.startsWith("{") && line.contains("\"pairs\":");
    }

    static BackendStats parse(String line) {
        Matcher negotiated = NEGOTIATED.matcher(line);
        List<Map<String, Long>> pairs = new ArrayList<>();
        for (int start = line.indexOf(PAIR_START); start >= 0; ) {
            int next = line.indexOf(PAIR_START, start + 1);
            pairs.add(counters(line.substring(start, next < 0 ? line.length() : next)));
            start = next;
        }
        return new BackendStats(negotiated.find() ? negotiated.group(1) : "", counters(line), List.copyOf(pairs));
    }

    /** Every counter of {@code text}, those of several pairs summed. */
    private static Map<String, Long> counters(String text) {
        Map<String, Long> counters = new HashMap<>();
        Matcher counter = COUNTER.matcher(text);
        while (counter.find()) {
            if (!counter.group(1).equals("pair")) {
                counters.merge(counter.group(1), Long.parseLong(counter.group(2)), Long::sum);
            }
        }
        return Map.copyOf(counters);
    }

    public long get(String key) {
        return totals.getOrDefault(key, 0L);
    }

    /** Counter {@code key} of queue pair {@code pair}. */
    public long pair(int pair, String key) {
        return pairs.get(pair).getOrDefault(key, 0L);
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
        List<Map<String, Long>> pairsGrown = new ArrayList<>();
        for (int pair = 0; pair < pairs.size(); pair++) {
            pairsGrown.add(grown(pairs.get(pair), pair < before.pairs.size() ? before.pairs.get(pair) : Map.of()));
        }
        return new BackendStats(negotiated, grown(totals, before.totals), List.copyOf(pairsGrown));
    }

    private static Map<String, Long> grown(Map<String, Long> now, Map<String, Long> then) {
        Map<String, Long> grown = new HashMap<>();
        now.forEach((key, value) -> grown.put(key, value - then.getOrDefault(key, 0L)));
        return Map.copyOf(grown);
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
