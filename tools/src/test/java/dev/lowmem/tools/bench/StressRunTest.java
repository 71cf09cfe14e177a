package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A guest's rows and series from real runs' directories (stress-guest-memory --seconds 4 --squeeze
 * both: ours, ours+squeeze and dpdk), beside what the script's awk made of the same runs.
 */
class StressRunTest {
    // the rows the awk did not have: the 100-ms series' and the drops' summary
    private static boolean new100MsOrDropRow(String row) {
        String[] f = row.split("\t");
        return (f[0].equals("10") || f[0].equals("20")) && !f[2].endsWith("Mbit/s (retr)")
                || f[0].equals(Integer.toString(StressRun.DROPPED_RANK));
    }

    private static List<String> hostToGuestRows(String fixture, Path dir) throws Exception {
        StressRun run = new StressRun(Fixtures.copyRun(fixture, dir), "ours", true, 30);
        return run.rows().stream().filter(r -> r.section().equals("host->guest")).map(StressRun.Row::tsv).toList();
    }

    @ParameterizedTest
    @ValueSource(strings = {"ours", "dpdk"})
    void theRowsTheAwkScriptGaveSaveThoseOfThe100MsSeries(String contender, @TempDir Path dir) throws Exception {
        String fixture = "stress-run-" + contender;
        StressRun run = new StressRun(Fixtures.copyRun(fixture, dir), contender, true, 30);

        List<String> rows = run.rows().stream().map(StressRun.Row::tsv).toList();

        // awk's printf rounds a tie to even (a median of 5.2 and 5.3 is 5.25: 5.2), Java's format up (5.3)
        List<String> awk = Fixtures.text(fixture + "/figures-awk.tsv").lines()
                .map(row -> contender.equals("dpdk") ? row.replace("DMA 5.2 /", "DMA 5.3 /").replace("43.6, 13", "43.7, 13") : row)
                .toList();
        assertEquals(awk.stream().filter(row -> !new100MsOrDropRow(row)).toList(),
                rows.stream().filter(row -> !new100MsOrDropRow(row)).toList());
    }

    @Test
    void theSeriesRowsOfADirection(@TempDir Path dir) throws Exception {
        assertEquals(List.of(
                "20\thost->guest\tunstressed Mbit/s (retr)\t413 (13)",
                "20\thost->guest\tstressed Mbit/s (retr)\t289 (13)",
                "20\thost->guest\tstressed, 100 ms: median / lowest\t291 / 125",
                "20\thost->guest\tstalled 100 ms (< 10% of unstressed median)\t0 of 40",
                "20\thost->guest\tlongest stall ms: unstressed / stressed\t0 / 0",
                "20\thost->guest\tback within after a squeeze, ms: median / worst\t-"), hostToGuestRows("stress-run-ours", dir));
    }

    @Test
    void squeezedTheStallsAndTheRecoveryAfterEachSqueeze(@TempDir Path dir) throws Exception {
        assertEquals(List.of(
                "20\thost->guest\tunstressed Mbit/s (retr)\t1320 (5)",
                "20\thost->guest\tstressed Mbit/s (retr)\t397 (103)",
                "20\thost->guest\tstressed, 100 ms: median / lowest\t437 / 0",
                "20\thost->guest\tstalled 100 ms (< 10% of unstressed median)\t6 of 40",
                "20\thost->guest\tlongest stall ms: unstressed / stressed\t0 / 200",
                // squeezes end 0.771, 1.790, 2.813 and 3.870 s into the run: back by 0.9, 1.9, 2.9 and 3.9
                "20\thost->guest\tback within after a squeeze, ms: median / worst\t98 / 129 ms of 4"),
                hostToGuestRows("stress-run-ours-squeeze", dir));
    }

    @ParameterizedTest
    @CsvSource({"stress-run-ours, ours, 0 / 0 / 0", "stress-run-ours-squeeze, ours, 32 / 0 / 0", "stress-run-dpdk, dpdk, 0 / 0 / 38"})
    void theFramesDroppedAndWhere(String fixture, String contender, String dropped, @TempDir Path dir) throws Exception {
        StressRun run = new StressRun(Fixtures.copyRun(fixture, dir), contender, true, 30);

        assertEquals(List.of(dropped), run.rows().stream().filter(r -> r.rank() == StressRun.DROPPED_RANK).map(StressRun.Row::value).toList());
    }

    @Test
    void theSeriesEvery100MsBothPhasesBothDirections(@TempDir Path dir) throws Exception {
        StressRun run = new StressRun(Fixtures.copyRun("stress-run-ours", dir), "ours", false, 0);

        List<String> series = run.seriesLines();

        assertEquals(4, series.stream().map(line -> line.split("\t")[0] + line.split("\t")[1]).distinct().count());
        assertEquals("baseline\tguest-to-host\t0.10\t0.0\t0", series.getFirst(), "the first run's start-up: no stall");
        assertTrue(series.size() >= 4 * 39, series.size() + " lines");
    }

    @Test
    void aProgressLineOfTheRatesAndTheOutcome(@TempDir Path dir) throws Exception {
        StressRun run = new StressRun(Fixtures.copyRun("stress-run-ours", dir), "ours", true, 30);

        assertEquals("g->h 386 (0) -> 339 (0) Mbit/s, h->g 413 (13) -> 289 (13) Mbit/s, rc 0, hog alive to the end",
                StressRun.progress(run.rows()));
    }

    @Test
    void aRunWithoutItsFilesHasDashesAndItsOutcome(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("rc"), "1\n");
        Files.writeString(dir.resolve("console.log"), "GUEST-ERROR memhog not ready after 120 s\r\n");

        List<StressRun.Row> rows = new StressRun(dir, "qemu-tap", false, 0).rows();

        assertEquals("-", rows.getFirst().value());
        assertEquals("- / - / -", rows.stream().filter(r -> r.rank() == StressRun.DROPPED_RANK).findFirst().orElseThrow().value());
        assertEquals("rc 1: memhog not ready after 120 s", rows.getLast().value());
    }

    @Test
    void anIperf3ThatFailedSaysWhy(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("rc"), "1\n");
        // stress-guest-memory --squeeze both, qemu-tap+squeeze: the UDP stream's client under the squeeze
        Files.writeString(dir.resolve("console.log"), "=== iperf3 stressed-udp begin ===\r\nConnecting to host 10.0.2.1, port 5202\r\n"
                + "iperf3: error - unable to read from stream socket: No such file or directory\r\n=== iperf3 stressed-udp end ===\r\n");

        List<StressRun.Row> rows = new StressRun(dir, "qemu-tap", true, 30).rows();

        assertEquals("rc 1: iperf3: error - unable to read from stream socket: No such file or directory", rows.getLast().value());
    }
}
