package dev.lowmem.guest;

import dev.lowmem.guest.GuestTraffic.Direction;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An iperf3 TCP test run a second at a time ({@code -i 1 --forceflush --get-server-output}, as
 * {@code guest-stress iperf3} runs it in the guest): its summary, and the receiver's figure for each
 * second: the client's own lines when the host sends ({@code -R}), the server's (after "Server
 * output:") when the guest sends. {@code output} is all the guest printed meanwhile (other
 * programs' lines too: the memory hog's).
 */
public record Iperf3Run(Iperf3Result summary, List<Double> megabitsEachSecond, String output) {
    // [  5]   3.00-4.00   sec   174 MBytes  1.45 Gbits/sec                  (the receiver's)
    // [  5]   3.00-4.00   sec   174 MBytes  1.46 Gbits/sec    2    438 KBytes   (a sender's)
    private static final Pattern INTERVAL = Pattern.compile(
            "^\\[\\s*\\d+\\]\\s+([\\d.]+)-([\\d.]+)\\s+sec\\s+[\\d.]+ \\w?Bytes\\s+([\\d.]+) (\\w?)bits/sec");
    private static final String SERVER_OUTPUT = "Server output:";
    private static final String SEPARATOR = "- - - -";
    // The last interval is the few milliseconds after the last whole second.
    private static final double SHORTEST_SECOND = 0.5;

    public static Iperf3Run parse(String output, Direction direction) {
        int server = output.indexOf(SERVER_OUTPUT);
        Iperf3Result summary = Iperf3Result.parse(server < 0 ? output : output.substring(0, server));
        boolean fromServer = direction == Direction.GUEST_TO_HOST;
        List<Double> seconds = new ArrayList<>();
        boolean inServer = false;
        boolean done = false;
        for (String line : output.lines().toList()) {
            if (line.startsWith(SERVER_OUTPUT)) {
                inServer = true;
                done = false;
            } else if (line.startsWith(SEPARATOR)) {
                done = true;
            } else if (!done && inServer == fromServer) {
                Matcher interval = INTERVAL.matcher(line);
                if (interval.find() && Double.parseDouble(interval.group(2)) - Double.parseDouble(interval.group(1)) >= SHORTEST_SECOND) {
                    seconds.add(Double.parseDouble(interval.group(3)) * megabits(interval.group(4)));
                }
            }
        }
        return new Iperf3Run(summary, List.copyOf(seconds), output);
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

    /** Seconds under {@code share} of {@code reference} Mbit/s. */
    public long secondsUnder(double share, double referenceMegabits) {
        return megabitsEachSecond.stream().filter(mbps -> mbps < share * referenceMegabits).count();
    }

    /** "1150 1090 1020 ...": the figure of each second, Mbit/s. */
    public String seconds() {
        return String.join(" ", megabitsEachSecond.stream().map(mbps -> String.format("%.0f", mbps)).toList());
    }
}
