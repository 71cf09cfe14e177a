package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchTableTest {
    private static final ReportSpec.Table GUEST = new ReportSpec.Table(List.of("guest->host", "host->guest"),
            List.of("ours", "qemu-tap"), List.of(new ReportSpec.Ratio("ours", "qemu-tap", "ours/QEMU-TAP")), "iperf3",
            "Mbit/s (retr)", "%.0f", "%.0f");

    private static BenchRun run(String caseName, String contender, int round, String value, String second) {
        return BenchRun.parse(String.join("\t", "guest", caseName, contender, String.valueOf(round), value, second,
                "/runs/" + contender + "-r" + round, "none"), "test");
    }

    private static List<BenchRun> rounds() {
        List<BenchRun> runs = new ArrayList<>();
        runs.add(run("guest->host", "ours", 1, "1000", "2"));
        runs.add(run("guest->host", "ours", 2, "1400", "0"));
        runs.add(run("guest->host", "ours", 3, "1200", "1"));
        runs.add(run("guest->host", "qemu-tap", 1, "1000", "0"));
        runs.add(run("guest->host", "qemu-tap", 2, "800", "0"));
        runs.add(run("guest->host", "qemu-tap", 3, "2000", "0"));
        runs.add(run("host->guest", "ours", 1, "-", "-"));
        runs.add(run("host->guest", "ours", 2, "900", "?"));
        return runs;
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(new Spread(1, 2, 5, 3), Spread.of(5, 1, 2));
        assertEquals(new Spread(1, 2.5, 4, 4), Spread.of(4, 1, 3, 2));
        assertTrue(Spread.of().empty());
    }

    @Test
    void cellsHoldMediansAndMarkWhatFailed() {
        TextTable table = new BenchTable(GUEST, rounds()).medians();

        assertEquals(List.of(List.of("iperf3", "ours Mbit/s (retr)", "qemu-tap Mbit/s (retr)", "ours/QEMU-TAP"),
                List.of("guest->host", "1200 (1)", "1000 (0)", "1.20"),
                List.of("host->guest", "900 (?)*", "-", "-")), table.rows());
    }

    @Test
    void rangesAreTheRoundsLowestAndHighestAndTheRatiosRoundByRound() {
        BenchTable table = new BenchTable(GUEST, rounds());

        assertEquals(List.of("guest->host", "1000-1400", "800-2000", "0.60-1.75"), table.ranges().rows().get(1));
        assertEquals(List.of("host->guest", "900", "-", "-"), table.ranges().rows().get(2));
        assertTrue(table.hasRounds());
        BenchTable.RatioBar bar = table.ratioBars().getFirst();
        assertEquals(1.2, bar.median(), 1e-9);
        assertEquals(0.6, bar.min(), 1e-9);
        assertEquals(1.75, bar.max(), 1e-9);
        assertTrue(Double.isNaN(table.ratioBars().get(1).median()));
    }

    @Test
    void aCellWhoseRunsAllFailedSaysSo() {
        BenchTable table = new BenchTable(GUEST, List.of(run("guest->host", "ours", 1, "-", "-")));

        assertEquals("failed", table.medians().rows().get(1).get(1));
        assertFalse(table.hasRounds());
    }

    @Test
    void textColumnsAreAlignedAndMarkdownNumbersRightAligned() {
        TextTable table = new TextTable(List.of(List.of("a", "bb", "c"), List.of("ccc", "d", "e|f")));

        assertEquals(List.of("  a    bb  c", "  ccc  d   e|f"), table.text("  "));
        assertEquals(List.of("| a | bb | c |", "|:---|---:|---:|", "| ccc | d | e\\|f |"), table.markdown());
    }

    @Test
    void aResultsLineWithoutPinningIsFromTheSplitBench() {
        BenchRun run = BenchRun.parse("testpmd\t64 B tx\ttestpmd:ours\t1\t9.75\t4.99\t/runs/001", "test");

        assertEquals("split", run.pinning());
        assertEquals(4.99, run.secondValue(), 1e-9);
    }
}
