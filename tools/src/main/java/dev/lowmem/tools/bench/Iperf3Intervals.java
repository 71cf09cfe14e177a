package dev.lowmem.tools.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The receiver's figure for each interval of an iperf3 TCP test run with {@code -i SECONDS --forceflush
 * --get-server-output} (a second, or 0.1 s for stress-guest-memory's series) ({@code guest-stress iperf3} in the guest): the client's own interval lines
 * when the host sends ({@code -R}), the server's (after "Server output:") when the guest sends.
 * Other programs' lines between iperf3's (the memory hog's) are skipped.
 */
public final class Iperf3Intervals {
    /** One interval: seconds from the test's start, and the receiver's rate over it. */
    public record Interval(double start, double end, double megabitsPerSecond) {
        public double length() {
            return end - start;
        }
    }

    // [  5]   3.00-4.00   sec   174 MBytes  1.45 Gbits/sec                  (the receiver's)
    // [  5]   3.00-4.00   sec   174 MBytes  1.46 Gbits/sec    2    438 KBytes   (a sender's)
    private static final Pattern INTERVAL = Pattern.compile(
            "^\\[\\s*\\d+\\]\\s+([\\d.]+)-([\\d.]+)\\s+sec\\s+[\\d.]+ \\w?Bytes\\s+([\\d.]+) (\\w?)bits/sec");
    private static final String SERVER_OUTPUT = "Server output:";
    private static final String SEPARATOR = "- - - -";
    // The last interval is the few milliseconds after the last whole one: one under this share of
    // the first interval's length (iperf3's -i) is left out.
    private static final double SHORTEST_SHARE = 0.5;

    private Iperf3Intervals() {
    }

    /** @param fromServer the server's lines (the guest sent), else the client's (the host sent) */
    public static List<Interval> parse(String output, boolean fromServer) {
        List<Interval> intervals = new ArrayList<>();
        boolean inServer = false;
        boolean done = false;
        for (String line : output.replace("\r", "").lines().toList()) {
            if (line.startsWith(SERVER_OUTPUT)) {
                inServer = true;
                done = false;
            } else if (line.startsWith(SEPARATOR)) {
                done = true;
            } else if (!done && inServer == fromServer) {
                Matcher interval = INTERVAL.matcher(line);
                if (interval.find()) {
                    double start = Double.parseDouble(interval.group(1));
                    double end = Double.parseDouble(interval.group(2));
                    if (intervals.isEmpty() || end - start >= SHORTEST_SHARE * intervals.getFirst().length()) {
                        intervals.add(new Interval(start, end, Double.parseDouble(interval.group(3)) * megabits(interval.group(4))));
                    }
                }
            }
        }
        return List.copyOf(intervals);
    }

    private static double megabits(String prefix) {
        return switch (prefix) {
            case "" -> 1e-6;
            case "K" -> 1e-3;
            case "M" -> 1;
            case "G" -> 1e3;
            default -> throw new IllegalArgumentException("unit prefix " + prefix);
        };
    }
}
