package dev.lowmem.tools.bench;

import java.util.List;

/**
 * A receiver's rate, interval by interval on one clock (iperf3's intervals from its test's start,
 * or our back-end's counters line by line): its spread, and its stalls, runs of consecutive
 * intervals under a floor.
 */
public record RateSeries(List<Iperf3Intervals.Interval> intervals) {
    /** How long a start-up may last, seconds. */
    public static final double START_UP_S = 0.5;

    public RateSeries {
        intervals = List.copyOf(intervals);
    }

    public boolean isEmpty() {
        return intervals.isEmpty();
    }

    public Spread spread() {
        return Spread.of(intervals.stream().map(Iperf3Intervals.Interval::megabitsPerSecond).toList());
    }

    /**
     * The series without its start-up, which is no stall: the intervals under {@code floor} Mbit/s
     * before the first at it or above, as far as they end within {@link #START_UP_S} of the
     * start (TCP's slow start: the server's first 300 ms of a guest's first run after boot held
     * next to nothing). A rate that stays under the floor longer is a stall from the start on.
     */
    public RateSeries withoutStartUp(double floor) {
        int first = 0;
        while (first < intervals.size() && intervals.get(first).megabitsPerSecond() < floor
                && intervals.get(first).end() - intervals.getFirst().start() <= START_UP_S) {
            first++;
        }
        return new RateSeries(intervals.subList(first, intervals.size()));
    }

    /** How many intervals have a rate under {@code floor} Mbit/s. */
    public long countUnder(double floor) {
        return intervals.stream().filter(i -> i.megabitsPerSecond() < floor).count();
    }

    /** The longest run of consecutive intervals under {@code floor} Mbit/s, in seconds; 0 without one. */
    public double longestStall(double floor) {
        double longest = 0;
        double run = 0;
        for (Iperf3Intervals.Interval interval : intervals) {
            run = interval.megabitsPerSecond() < floor ? run + interval.length() : 0;
            longest = Math.max(longest, run);
        }
        return longest;
    }
}
