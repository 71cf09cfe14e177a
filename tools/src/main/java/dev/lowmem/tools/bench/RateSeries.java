package dev.lowmem.tools.bench;

import java.util.List;

/**
 * A receiver's rate, interval by interval on one clock (iperf3's intervals from its test's start,
 * or our back-end's counters line by line): its spread, and its stalls, runs of consecutive
 * intervals under a floor.
 */
public record RateSeries(List<Iperf3Intervals.Interval> intervals) {
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
     * The series from its first interval at {@code floor} Mbit/s or above: without its start-up,
     * which is no stall (TCP's slow start; the server's first 100 ms of a guest's first run after
     * boot hold nothing at all). Empty when the rate never reached the floor.
     */
    public RateSeries fromFirstAt(double floor) {
        for (int i = 0; i < intervals.size(); i++) {
            if (intervals.get(i).megabitsPerSecond() >= floor) {
                return new RateSeries(intervals.subList(i, intervals.size()));
            }
        }
        return new RateSeries(List.of());
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
