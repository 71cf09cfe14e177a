package dev.lowmem.tools.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Named counters in the order they came, as a run's files hold them: "KEY VALUE" lines (the host
 * TAP's), a {@code GUEST-COUNTERS NAME key=value ...} console line, our back-end's JSON stats line
 * (each key summed over the queue pairs) or testpmd's port lines. A value that is not a whole
 * number ("?": the counter could not be read) is kept as it is; {@link #minus} gives "?" for it.
 */
public record Counters(Map<String, String> values) {
    private static final Pattern JSON_NUMBER = Pattern.compile("\"([a-z0-9_]+)\":(\\d+)");
    private static final Pattern WHOLE = Pattern.compile("-?\\d+");

    public Counters {
        values = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** "KEY VALUE" a line. */
    public static Counters ofLines(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        text.lines().map(String::strip).filter(line -> !line.isEmpty()).forEach(line -> {
            String[] kv = line.split("\\s+", 2);
            values.put(kv[0], kv.length > 1 ? kv[1] : "?");
        });
        return new Counters(values);
    }

    /** The first {@code GUEST-COUNTERS NAME k=v ...} line of a guest's console (guest-stress counters); empty without one. */
    public static Counters ofGuestLine(String console, String name) {
        return ofGuestLine(console, "GUEST-COUNTERS", name);
    }

    /** The first {@code TAG NAME k=v ...} line of a guest's console (GUEST-COSTS: guest-costs); empty without one. */
    public static Counters ofGuestLine(String console, String tag, String name) {
        Matcher line = Pattern.compile("(?m)^" + Pattern.quote(tag) + " " + Pattern.quote(name) + " (.*?)\\r?$")
                .matcher(console);
        Map<String, String> values = new LinkedHashMap<>();
        if (line.find()) {
            for (String pair : line.group(1).trim().split(" +")) {
                int equals = pair.indexOf('=');
                if (equals > 0) {
                    values.put(pair.substring(0, equals), pair.substring(equals + 1));
                }
            }
        }
        return new Counters(values);
    }

    /**
     * A back-end's counters as the stress scripts saved them (stats-begin, stats-end): our JSON line,
     * every numeric key summed over the pairs ("pair", the pair's number, left out), or testpmd's
     * "testpmd role=R port=N name=P K=V ..." lines, each K of port P as "P_K".
     */
    public static Counters ofBackendStats(String text) {
        Map<String, Long> sums = new LinkedHashMap<>();
        for (String line : text.lines().toList()) {
            if (line.startsWith("testpmd ")) {
                String port = "";
                for (String word : line.split(" +")) {
                    if (word.startsWith("name=")) {
                        port = word.substring("name=".length());
                    }
                }
                for (String word : line.split(" +")) {
                    String[] kv = word.split("=", -1);
                    if (kv.length == 2 && !kv[0].equals("port") && kv[1].matches("\\d+")) {
                        sums.merge(port + "_" + kv[0], Long.parseLong(kv[1]), Long::sum);
                    }
                }
            } else {
                Matcher number = JSON_NUMBER.matcher(line);
                while (number.find()) {
                    if (!number.group(1).equals("pair")) {
                        sums.merge(number.group(1), Long.parseLong(number.group(2)), Long::sum);
                    }
                }
            }
        }
        Map<String, String> values = new LinkedHashMap<>();
        sums.forEach((key, sum) -> values.put(key, Long.toString(sum)));
        return new Counters(values);
    }

    /** Each of this one's counters less {@code earlier}'s, in this one's order; "?" where either is not a number. */
    public Counters minus(Counters earlier) {
        Map<String, String> deltas = new LinkedHashMap<>();
        values.forEach((key, value) -> {
            String before = earlier.values.get(key);
            boolean numbers = before != null && WHOLE.matcher(value).matches() && WHOLE.matcher(before).matches();
            deltas.put(key, numbers ? Long.toString(Long.parseLong(value) - Long.parseLong(before)) : "?");
        });
        return new Counters(deltas);
    }

    public OptionalLong get(String key) {
        String value = values.get(key);
        return value != null && WHOLE.matcher(value).matches() ? OptionalLong.of(Long.parseLong(value)) : OptionalLong.empty();
    }

    public boolean isEmpty() {
        return values.isEmpty();
    }
}
