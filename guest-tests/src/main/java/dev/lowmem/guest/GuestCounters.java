package dev.lowmem.guest;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The guest kernel's counters of memory pressure and of the TCP stack's trouble, cumulative since
 * boot, as {@code guest-stress counters NAME} prints them ({@code GUEST-COUNTERS NAME oom_kill=0
 * allocstall=0 ... eth0_rx_dropped=0}): OOM kills, allocation stalls, compaction, kswapd's runs and
 * scans, TCP memory pressure, pruning and drops, retransmitted segments, eth0's drops, the page
 * allocation failure warnings in the kernel's ring and, once {@link Squeeze} set its kprobe, the
 * runs of virtio_net's refill_work.
 */
public record GuestCounters(Map<String, Long> values) {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final String PREFIX = "GUEST-COUNTERS ";

    public static GuestCounters read(Guest guest) throws IOException, InterruptedException {
        return parse(guest.check(TIMEOUT, "guest-stress counters now"));
    }

    static GuestCounters parse(String output) {
        return parse(output, PREFIX);
    }

    /** The counters of the first line of {@code output} that begins with {@code prefix}: "PREFIX key=N key=N ...". */
    static GuestCounters parse(String output, String prefix) {
        String line = output.lines().filter(text -> text.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no " + prefix + "line in:\n" + output));
        Map<String, Long> values = new LinkedHashMap<>();
        for (String word : line.substring(prefix.length()).split(" ")) {
            int equals = word.indexOf('=');
            if (equals > 0) {
                values.put(word.substring(0, equals), Long.parseLong(word.substring(equals + 1)));
            }
        }
        return new GuestCounters(values);
    }

    public long get(String key) {
        return values.getOrDefault(key, 0L);
    }

    /** The counters that grew from {@code before} to these. */
    public GuestCounters since(GuestCounters before) {
        Map<String, Long> grown = new LinkedHashMap<>();
        values.forEach((key, value) -> grown.put(key, value - before.get(key)));
        return new GuestCounters(grown);
    }

    /** "oom_kill=0 allocstall=3 ...", in the guest's order. */
    public String summary() {
        return values.entrySet().stream().map(entry -> entry.getKey() + "=" + entry.getValue()).collect(Collectors.joining(" "));
    }
}
