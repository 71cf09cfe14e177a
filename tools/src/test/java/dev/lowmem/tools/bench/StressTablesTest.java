package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** stress-guest-memory's tables from the lines its runs wrote. */
class StressTablesTest {
    @Test
    void figuresInRankOrderThenAsFirstSeenAColumnPerRun() {
        List<String> figures = List.of(
                "ours\t30\tguest memory\thog holds MB (median)\t24.5",
                "ours\t10\tguest->host\tunstressed Mbit/s (retr)\t1500 (0)",
                "ours\t10\tguest->host\tstressed Mbit/s (retr)\t900 (3)",
                "dpdk\t10\tguest->host\tunstressed Mbit/s (retr)\t1400 (1)",
                "dpdk\t30\tguest memory\thog holds MB (median)\t25.0");

        assertEquals(List.of(
                List.of("", "", "ours", "dpdk"),
                List.of("guest->host", "unstressed Mbit/s (retr)", "1500 (0)", "1400 (1)"),
                List.of("", "stressed Mbit/s (retr)", "900 (3)", "-"),
                List.of("guest memory", "hog holds MB (median)", "24.5", "25.0")),
                StressTables.figures(List.of("ours", "dpdk"), figures));
    }

    @Test
    void aSecondIsTheMeanOfItsIntervalsMarkedWhenOneStalled() {
        // 0.50-1.01 is mostly in the first second, whatever its end
        List<String> series = List.of(
                "ours\tbaseline\tguest-to-host\t0.10\t5000.0\t0",
                "ours\tstressed\tguest-to-host\t0.50\t1000.0\t0",
                "ours\tstressed\tguest-to-host\t1.01\t0.0\t1",
                "ours\tstressed\tguest-to-host\t1.10\t300.0\t0",
                "ours\tstressed\thost-to-guest\t0.10\t800.0\t0");

        assertEquals(List.of(
                List.of("second", "ours g->h", "ours h->g"),
                List.of("1", "500!", "800"),
                List.of("2", "300", "-")),
                StressTables.stressedSeconds(List.of("ours"), series));
    }
}
