package dev.lowmem.tools.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The accelerators guest-tests/scripts/run-guest used, counted from its stderr lines
 * ({@code run-guest: rc=0 (GUEST-DONE rc=0) accel=tcg in 23.19s}): "kvm (1 runs), tcg (5 runs)",
 * by name, for a legend of tools/bench's report.
 */
public final class Accelerators {
    // greedy: the last " accel=" of the line
    private static final Pattern RUN = Pattern.compile("^run-guest: rc=.* accel=([a-z]*)");

    private Accelerators() {
    }

    public static String count(List<String> stderrTexts) {
        Map<String, Integer> runs = new TreeMap<>();
        for (String text : stderrTexts) {
            for (String line : text.lines().toList()) {
                Matcher run = RUN.matcher(line);
                if (run.find()) {
                    runs.merge(run.group(1), 1, Integer::sum);
                }
            }
        }
        List<String> parts = new ArrayList<>();
        runs.forEach((accel, n) -> parts.add(accel + " (" + n + " runs)"));
        return String.join(", ", parts);
    }
}
