package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Stalls in a 100-ms series: runs of consecutive intervals under a floor. */
class RateSeriesTest {
    static RateSeries every100Ms(double... megabits) {
        List<Iperf3Intervals.Interval> intervals = new ArrayList<>();
        for (int i = 0; i < megabits.length; i++) {
            intervals.add(new Iperf3Intervals.Interval(i / 10.0, (i + 1) / 10.0, megabits[i]));
        }
        return new RateSeries(intervals);
    }

    @Test
    void theLongestStallIsTheLongestRunUnderTheFloor() {
        RateSeries series = every100Ms(900, 0, 0, 800, 50, 0, 0, 0, 900, 0);

        assertEquals(0.4, series.longestStall(90), 1e-9, "50, 0, 0 and 0: 50 is under 90 too");
        assertEquals(0.3, series.longestStall(10), 1e-9, "at a floor of 10, the empty pair and then three");
        assertEquals(7, series.countUnder(90));
    }

    @Test
    void theStartUpIsNoStall() {
        RateSeries series = every100Ms(0, 5, 300, 900, 0, 900);

        assertEquals(List.of(300.0, 900.0, 0.0, 900.0), series.withoutStartUp(90).intervals().stream()
                .map(Iperf3Intervals.Interval::megabitsPerSecond).toList());
        assertEquals(0.1, series.withoutStartUp(90).longestStall(90), 1e-9);
    }

    @Test
    void aStartUpLongerThanHalfASecondIsAStall() {
        RateSeries series = every100Ms(0, 5, 0, 0, 0, 0, 0, 900);

        assertEquals(0.2, series.withoutStartUp(90).longestStall(90), 1e-9, "0.5-0.7: the first 0.5 s are the start-up");
    }

    @Test
    void noStallWithoutAnIntervalUnderTheFloor() {
        assertEquals(0, every100Ms(900, 800).longestStall(90));
        assertEquals(0, new RateSeries(List.of()).longestStall(90));
    }

    @Test
    void theSpreadOfTheFigures() {
        Spread spread = every100Ms(900, 100, 500).spread();

        assertEquals(500, spread.median());
        assertEquals(100, spread.min());
    }
}
