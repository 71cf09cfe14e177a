package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The squeezes and iperf3's starts on the guest's clock, from a real squeezed run's console (ours+squeeze). */
class GuestClockTest {
    private static String console() throws Exception {
        return Fixtures.text("stress-run-ours-squeeze/console.log");
    }

    @Test
    void theSqueezesTheModuleLogged() throws Exception {
        List<GuestClock.Window> squeezes = GuestClock.squeezes(console());

        assertEquals(11, squeezes.size(), "as many as its squeezes counter says");
        assertEquals(new GuestClock.Window(14.452, 14.654), squeezes.getFirst());
    }

    @Test
    void theSqueezesOnAnIperf3RunsClock() throws Exception {
        assertEquals(21.06, GuestClock.iperf3Start(console(), "stressed-host-to-guest").orElseThrow(), 1e-9);

        GuestClock.Window during = GuestClock.squeezesDuring(console(), "stressed-host-to-guest").get(7);

        assertEquals(0.564, during.begin(), 1e-9, "squeeze 8, 21.624 s since boot, 0.564 s into the run");
        assertEquals(0.771, during.end(), 1e-9);
    }

    @Test
    void noneWithoutTheModuleOrTheStamp() throws Exception {
        assertTrue(GuestClock.squeezes(Fixtures.text("stress-run-ours/console.log")).isEmpty());
        assertTrue(GuestClock.squeezesDuring(console(), "no-such-run").isEmpty());
    }
}
