package dev.lowmem.tools.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What memhog (guest-tests/guest/memhog.c) printed in a guest's console: its start line (the
 * watermarks, its floor) and its line a second ({@code MEMHOG t=N key=value ...}) between
 * {@code GUEST-PHASE stressed begin} and {@code GUEST-PHASE stressed end}, as the figures of the
 * stress report's "guest memory" rows.
 */
public final class HogLines {
    private static final Pattern START = Pattern.compile(
            "(?m)^MEMHOG-START .*?min_mb=([\\d.]+) low_mb=([\\d.]+).*?floor_mb=([\\d.]+)");
    // DMA:14.9/0.3: a zone's free memory and low watermark at the second's dip, MB
    private static final Pattern ZONE = Pattern.compile("([A-Za-z0-9]+):([\\d.]+)/([\\d.]+)");

    private final List<Map<String, String>> seconds;
    private final String watermarks;

    private HogLines(List<Map<String, String>> seconds, String watermarks) {
        this.seconds = seconds;
        this.watermarks = watermarks;
    }

    public static HogLines ofConsole(String console) {
        List<Map<String, String>> seconds = new ArrayList<>();
        boolean stressed = false;
        for (String line : console.replace("\r", "").lines().toList()) {
            if (line.equals("GUEST-PHASE stressed begin")) {
                stressed = true;
            } else if (line.equals("GUEST-PHASE stressed end")) {
                stressed = false;
            } else if (stressed && line.startsWith("MEMHOG t=")) {
                Map<String, String> fields = new LinkedHashMap<>();
                for (String word : line.split(" +")) {
                    int equals = word.indexOf('=');
                    if (equals > 0) {
                        fields.put(word.substring(0, equals), word.substring(equals + 1));
                    }
                }
                seconds.add(fields);
            }
        }
        Matcher start = START.matcher(console);
        String watermarks = start.find() ? start.group(1) + " / " + start.group(2) + ", floor " + start.group(3) : "";
        return new HogLines(List.copyOf(seconds), watermarks);
    }

    public boolean isEmpty() {
        return seconds.isEmpty();
    }

    /** The numbers of {@code key} over the stressed seconds. */
    public Spread spread(String key) {
        return Spread.of(seconds.stream().map(s -> s.get(key)).filter(v -> v != null).map(Double::parseDouble).toList());
    }

    /** The sum of {@code key} (a count a second) over the stressed seconds. */
    public long total(String key) {
        return seconds.stream().map(s -> s.get(key)).filter(v -> v != null).mapToLong(Long::parseLong).sum();
    }

    /** "1.0 / 1.3, floor 6.0": the min and low watermarks and memhog's floor, MB; empty without its start line. */
    public String watermarks() {
        return watermarks;
    }

    /** "DMA 3.3 / 2.3, DMA32 3.0 / 3.0": each zone's median free memory and low watermark at the dips, MB. */
    public String zoneMedians() {
        Map<String, List<Double>> free = new LinkedHashMap<>();
        Map<String, List<Double>> low = new LinkedHashMap<>();
        for (Map<String, String> second : seconds) {
            Matcher zone = ZONE.matcher(second.getOrDefault("zones_at_dip", ""));
            while (zone.find()) {
                free.computeIfAbsent(zone.group(1), z -> new ArrayList<>()).add(Double.parseDouble(zone.group(2)));
                low.computeIfAbsent(zone.group(1), z -> new ArrayList<>()).add(Double.parseDouble(zone.group(3)));
            }
        }
        List<String> zones = new ArrayList<>();
        free.forEach((zone, values) -> zones.add(String.format(Locale.ROOT, "%s %.1f / %.1f", zone,
                Spread.of(values).median(), Spread.of(low.get(zone)).median())));
        return String.join(", ", zones);
    }
}
