package dev.lowmem.tools.bench;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A sockperf ping-pong client's round trips, in microseconds, and how many it timed, from its
 * statistics lines (the count among terminal escape codes):
 * <pre>
 * sockperf: Summary: Round trip is 818.525 usec
 * sockperf: Total 509 observations; each percentile contains 5.09 observations
 * sockperf: ---&gt; percentile 99.900 = 6077.964
 * sockperf: ---&gt; percentile 50.000 =  778.632
 * </pre>
 * Only a client run with {@code --full-rtt} says "Round trip"; without it sockperf prints "Latency
 * is" and halves every figure, which this refuses. The bench reads it from a guest's console
 * (tools/bench), the demo and the guest tests from the guest's shell.
 */
public record SockperfResult(double medianUs, double p99Us, double p999Us, long roundTrips) {
    private static final Pattern PERCENTILE = Pattern.compile("---> percentile\\s+([\\d.]+)\\s*=\\s*([\\d.]+)");
    private static final Pattern OBSERVATIONS = Pattern.compile("Total (\\d+) observations");
    private static final String ROUND_TRIP = "Summary: Round trip is";

    /** The run between {@code === sockperf begin/end ===} in a console log. */
    public static SockperfResult ofConsole(String console) {
        return parse(ConsoleSection.of(console, "sockperf"));
    }

    public static SockperfResult parse(String output) {
        if (!output.contains(ROUND_TRIP)) {
            throw new IllegalArgumentException("no sockperf round-trip summary (a run with --full-rtt) in:\n" + output);
        }
        Matcher observations = OBSERVATIONS.matcher(output);
        if (!observations.find()) {
            throw new IllegalArgumentException("no sockperf count of observations in:\n" + output);
        }
        double median = Double.NaN;
        double p99 = Double.NaN;
        double p999 = Double.NaN;
        Matcher percentile = PERCENTILE.matcher(output);
        while (percentile.find()) {
            double value = Double.parseDouble(percentile.group(2));
            double rank = Double.parseDouble(percentile.group(1));
            if (rank == 50) {
                median = value;
            } else if (rank == 99) {
                p99 = value;
            } else if (rank == 99.9) {
                p999 = value;
            }
        }
        if (Double.isNaN(median) || Double.isNaN(p99) || Double.isNaN(p999)) {
            throw new IllegalArgumentException("sockperf's percentiles 50, 99 and 99.9 not all in:\n" + output);
        }
        return new SockperfResult(median, p99, p999, Long.parseLong(observations.group(1)));
    }

    /** "MEDIAN P99 P99.9", as sockperf printed them: what the bench records. */
    public String figures() {
        return String.format(Locale.ROOT, "%.3f %.3f %.3f", medianUs, p99Us, p999Us);
    }

    /** "median 1004 us, p99 4885 us, p99.9 6425 us of 509 round trips". */
    public String summary() {
        return String.format(Locale.ROOT, "median %.0f us, p99 %.0f us, p99.9 %.0f us of %d round trips", medianUs, p99Us,
                p999Us, roundTrips);
    }
}
