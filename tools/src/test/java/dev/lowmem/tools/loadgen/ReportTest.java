package dev.lowmem.tools.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReportTest {
    private static final long FEATURES = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX, Feature.NET_MRG_RXBUF);

    private static Result result(Mode mode, int pairs, Counts window, long nanos) {
        LoadSettings settings = new LoadSettings(Path.of("/tmp/s"), false, mode, 64, Duration.ofSeconds(10),
                Duration.ofSeconds(1), false, pairs, 32, 256, true, true);
        Plan plan = new Plan(FEATURES, 12, 1500, FrameKind.PLAIN, 1460, 128, 2048, true);
        Counts totals = new Counts(window.txPosted() + 300, window.txFrames() + 100, 0, window.rxFrames() + 7, 0, 0,
                window.kicks(), window.wakeups(), window.rounds(), window.idleRounds());
        return new Result(settings, plan, window, Collections.nCopies(pairs, window), nanos, totals, null);
    }

    @Test
    void ratesArePerSecondOfTheMeasuredInterval() {
        assertEquals(2.0, Report.mpps(20_000_000, 10_000_000_000L), 1e-9);
        assertEquals(1.024, Report.gbps(20_000_000 * 64L, 10_000_000_000L), 1e-9);
        assertEquals(0.0, Report.mpps(5, 0));
    }

    @Test
    void theSummaryLineHasTheKeysScriptsParseInOrder() {
        Counts window = new Counts(20_000_100, 20_000_000, 20_000_000 * 64L, 0, 0, 0, 12, 3, 1000, 250);

        String line = Report.summary(result(Mode.TX, 1, window, 10_000_000_000L));

        assertEquals("loadgen mode=tx size=64 ring=split queues=1 seconds=10.00 tx_frames=20000000 tx_mpps=2.000"
                + " tx_gbps=1.024 rx_frames=0 rx_mpps=0.000 rx_gbps=0.000 tx_bytes=1280000000 rx_bytes=0 frame=plain"
                + " burst=32 queue_size=256 features=0x120008000 kicks=12 sleeps=3 rx_bad=0 tx_in_flight=300 idle_pct=25.0", line);
    }

    @Test
    void theLinesForPeopleSayWhatWasMeasuredAndWhatGbitCounts() {
        Counts window = new Counts(1_000_000, 1_000_000, 64_000_000, 999_000, 63_936_000, 0, 0, 0, 0, 0);

        List<String> lines = Report.lines(result(Mode.BOTH, 1, window, 2_000_000_000L));

        assertEquals("loadgen: both: tx of 64-byte frames, rx into 2048-byte mergeable buffers, 1 queue pair, split"
                + " rings of 256, burst 32: 2.00 s measured after 1.00 s of warm-up", lines.get(0));
        assertEquals("  tx     0.500 Mpps     0.256 Gbit/s        1000000 frames", lines.get(1));
        assertEquals("  rx     0.500 Mpps     0.256 Gbit/s         999000 frames", lines.get(2));
        assertTrue(lines.get(3).contains("Ethernet frame bytes: no virtio-net header, FCS"), lines.get(3));
        assertTrue(lines.get(4).startsWith("  0.0% of the generator's rounds found nothing to do"), lines.get(4));
        assertTrue(lines.get(5).startsWith("  since the rings started: tx 1000300 posted, 1000100 returned, 200 left"
                + " in flight; rx 999007 frames"), lines.get(4));
    }

    @Test
    void severalPairsGetALineEachPerDirection() {
        Counts window = new Counts(10, 10, 640, 0, 0, 0, 0, 0, 0, 0);

        List<String> lines = Report.lines(result(Mode.TX, 2, window, 1_000_000_000L));

        assertEquals(10, lines.size());
        assertTrue(lines.get(3).startsWith("    pair 0 tx "), lines.get(3));
        assertTrue(lines.get(6).startsWith("    pair 1 rx "), lines.get(6));
    }

    @Test
    void progressIsOneLine() {
        Counts interval = new Counts(0, 1_000_000, 64_000_000, 0, 0, 0, 0, 0, 0, 0);

        assertEquals("   1.00 s  tx    1.000 Mpps    0.512 Gbit/s  rx    0.000 Mpps    0.000 Gbit/s",
                Report.progress(1.0, interval, 1_000_000_000L));
    }
}
