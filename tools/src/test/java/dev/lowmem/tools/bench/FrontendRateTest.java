package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The figures tools/bench's awk printed for the same lines (printf "%.6f %.6f"). */
class FrontendRateTest {
    @Test
    void testpmdsSentFramesOverItsSeconds() throws Exception {
        String out = Fixtures.text("testpmd-frontend/frontend.out");

        // awk: 3342592 / 3.06 / 1e6 and 213925888 * 8 / 3.06 / 1e9
        assertEquals("1.092350 0.559283", FrontendRate.ofTestpmd(out, "tx"));
        assertEquals("0.000000 0.000000", FrontendRate.ofTestpmd(out, "rx"));
    }

    @Test
    void loadgensMppsTimesTheFrameSize() {
        String out = "loadgen mode=both size=64 ring=split queues=1 seconds=2.00 tx_frames=1 tx_mpps=1.250"
                + " tx_gbps=0.640 rx_frames=1 rx_mpps=0.875 rx_gbps=0.448\n";

        assertEquals("0.875000 0.448000", FrontendRate.ofLoadgen(out, "rx", 64));
        assertEquals("1.250000 15.000000", FrontendRate.ofLoadgen(out, "tx", 1500));
    }

    @Test
    void roundsTheExactValueHalfToEvenAsPrintfDoes() {
        // the double nearest 5e-7 is a little below it: printf gives 0.000000, String.format 0.000001
        assertEquals("0.000000 0.000003", FrontendRate.figures(0.0000005, 0.0000025));
        assertEquals("0.000001", String.format(java.util.Locale.ROOT, "%.6f", 0.0000005));
        assertEquals("0.125000 1.000000", FrontendRate.figures(0.125, 0.9999995000000001));
    }

    @Test
    void noLineOrNoFieldIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> FrontendRate.ofTestpmd("testpmd-frontend: negotiated\n", "tx"));
        assertThrows(IllegalArgumentException.class,
                () -> FrontendRate.ofTestpmd("testpmd role=frontend port=0 tx_packets=1 tx_bytes=64\n", "tx"));
    }
}
