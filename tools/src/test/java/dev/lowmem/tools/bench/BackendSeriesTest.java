package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Our back-end's stats lines every 100 ms around the raise of its pool budget, from a real run
 * (stress-backend-memory --seconds 10 --budget 0 --iperf-args "-u -b 2G": its lines 5.2 s either
 * side of the raise, which its log put at 15:10:15.292 UTC).
 */
class BackendSeriesTest {
    private static final double RAISED_AT = 1796310615.292;

    private static BackendSeries series() throws Exception {
        return BackendSeries.parse(Fixtures.text("backend-stats-raise.out"));
    }

    @Test
    void aRowAStatsLineTheRateAndWhatTheCountersDid() throws Exception {
        List<BackendSeries.Row> rows = series().rows(RAISED_AT, 5, 5, 0);

        assertEquals(99, rows.size());
        assertEquals(List.of("-4.9", "29", "0", "3", "3", "0", "1879", "0", "0", "0.0"), rows.getFirst().cells());
    }

    @Test
    void aRowASecondAroundTheRaise() throws Exception {
        List<List<String>> table = BackendSeries.table(series().rows(RAISED_AT, 5, 5, 1));

        assertEquals(BackendSeries.HEADER, table.getFirst());
        assertEquals(10, table.size(), "a header and nine seconds");
        assertEquals(List.of("-0.1", "97", "0", "65", "65", "0", "18130", "0", "0", "0.0"), table.get(5));
        assertEquals(List.of("+0.9", "61", "4522", "8", "8", "0", "16529", "0", "0", "2.0"), table.get(6),
                "held from the raise on, in the 2 MiB the pool took");
    }

    @Test
    void theMediansBeforeAndAfterAndWhenTheRateWasBack() throws Exception {
        assertEquals("median before the raise 62 Mbit/s, after 54; at 90% of the later median from 0.4 s after the raise",
                BackendSeries.recovery(series().rows(RAISED_AT, 5, 5, 0)));
    }

    @Test
    void otherLinesOfTheOutputAreLeftOut() {
        assertEquals(List.of(), BackendSeries.parse("vhost-user-net: listening\n{\"time\":\"2026-12-03T15:10:15Z\"}\n")
                .rows(RAISED_AT, 5, 5, 0));
    }
}
