package dev.lowmem.tools.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The squeeze module's counters (guest-tests/guest-module/squeeze.c) from the last
 * {@code GUEST-SQUEEZE key=value ...} line of a guest's console (guest-stress squeeze-stats, which
 * squeeze-stop prints before it unloads the module), in their order.
 */
public final class SqueezeStats {
    private static final Pattern LINE = Pattern.compile("(?m)^GUEST-SQUEEZE((?: [a-z_]+=-?\\d+)+)\\r?$");

    private SqueezeStats() {
    }

    public static Map<String, Long> ofConsole(String console) {
        Matcher line = LINE.matcher(console);
        String last = null;
        while (line.find()) {
            last = line.group(1);
        }
        if (last == null) {
            throw new IllegalArgumentException("no GUEST-SQUEEZE line in the console");
        }
        Map<String, Long> counters = new LinkedHashMap<>();
        for (String pair : last.trim().split(" ")) {
            int equals = pair.indexOf('=');
            counters.put(pair.substring(0, equals), Long.parseLong(pair.substring(equals + 1)));
        }
        return counters;
    }
}
