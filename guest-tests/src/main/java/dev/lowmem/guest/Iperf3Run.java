package dev.lowmem.guest;

import dev.lowmem.guest.GuestTraffic.Direction;
import dev.lowmem.tools.bench.Iperf3Intervals;
import dev.lowmem.tools.bench.Iperf3Result;
import java.util.List;

/**
 * An iperf3 TCP test run a second at a time ({@code -i 1 --forceflush --get-server-output}, as
 * {@code guest-stress iperf3} runs it in the guest): its summary, and the receiver's figure for each
 * second: the client's own lines when the host sends ({@code -R}), the server's (after "Server
 * output:") when the guest sends. {@code output} is all the guest printed meanwhile (other
 * programs' lines too: the memory hog's).
 */
public record Iperf3Run(Iperf3Result summary, List<Double> megabitsEachSecond, String output) {
    private static final String SERVER_OUTPUT = "Server output:";

    public static Iperf3Run parse(String output, Direction direction) {
        int server = output.indexOf(SERVER_OUTPUT);
        Iperf3Result summary = Iperf3Result.parse(server < 0 ? output : output.substring(0, server));
        List<Double> seconds = Iperf3Intervals.parse(output, direction == Direction.GUEST_TO_HOST).stream()
                .map(Iperf3Intervals.Interval::megabitsPerSecond).toList();
        return new Iperf3Run(summary, seconds, output);
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
