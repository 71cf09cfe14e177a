package dev.lowmem.tools.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How long after each squeeze a receiver's rate is back: from the squeeze's end to the end of the
 * first interval ending after it whose rate is at least {@link #RECOVERED_SHARE} of the median
 * of the intervals that no squeeze touches (the rate between squeezes, under the same stress). It
 * is an upper bound, good to the series' interval (100 ms for stress-guest-memory): the rate was
 * back by then, and may have been since that interval's start. A squeeze whose rate is not back
 * when the next one begins (or the run ends) is counted apart, as not recovered. Squeezes that
 * end outside the series are left out.
 *
 * @param seconds the recoveries, in the squeezes' order
 * @param notRecovered the squeezes after which the rate did not come back in time
 */
public record SqueezeRecovery(List<Double> seconds, int notRecovered) {
    public static final double RECOVERED_SHARE = 0.5;

    public SqueezeRecovery {
        seconds = List.copyOf(seconds);
    }

    /** @param squeezes on the series' clock, in their order */
    public static SqueezeRecovery of(RateSeries series, List<GuestClock.Window> squeezes) {
        List<Iperf3Intervals.Interval> intervals = series.intervals();
        if (intervals.isEmpty()) {
            return new SqueezeRecovery(List.of(), 0);
        }
        double between = Spread.of(intervals.stream().filter(i -> squeezes.stream().noneMatch(w -> overlaps(i, w)))
                .map(Iperf3Intervals.Interval::megabitsPerSecond).toList()).median();
        double floor = RECOVERED_SHARE * between;
        double first = intervals.getFirst().start();
        double last = intervals.getLast().end();
        List<Double> recoveries = new ArrayList<>();
        int notRecovered = 0;
        for (int s = 0; s < squeezes.size(); s++) {
            GuestClock.Window squeeze = squeezes.get(s);
            if (squeeze.end() < first || squeeze.end() >= last) {
                continue;
            }
            double deadline = s + 1 < squeezes.size() ? squeezes.get(s + 1).begin() : last;
            Iperf3Intervals.Interval back = intervals.stream()
                    .filter(i -> i.end() > squeeze.end() && i.start() < deadline && i.megabitsPerSecond() >= floor)
                    .findFirst().orElse(null);
            if (back == null || Double.isNaN(floor)) {
                notRecovered++;
            } else {
                recoveries.add(back.end() - squeeze.end());
            }
        }
        return new SqueezeRecovery(recoveries, notRecovered);
    }

    private static boolean overlaps(Iperf3Intervals.Interval interval, GuestClock.Window squeeze) {
        return interval.start() < squeeze.end() && interval.end() > squeeze.begin();
    }

    public int squeezes() {
        return seconds.size() + notRecovered;
    }

    /** "100 / 300 ms of 4" (median / worst), with ", 1 not before the next" when some did not come back; "-" for none. */
    public String figures() {
        if (squeezes() == 0) {
            return "-";
        }
        String counted = notRecovered == 0 ? "" : ", " + notRecovered + " not before the next";
        if (seconds.isEmpty()) {
            return "never, of " + squeezes() + counted;
        }
        Spread spread = Spread.of(seconds);
        return String.format(Locale.ROOT, "%.0f / %.0f ms of %d%s", spread.median() * 1e3, spread.max() * 1e3, squeezes(), counted);
    }
}
