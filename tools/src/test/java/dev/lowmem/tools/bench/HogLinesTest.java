package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** memhog's lines in a real stress run's console (stress-guest-memory --squeeze both, ours, squeeze off). */
class HogLinesTest {
    @Test
    void theStressedSecondsFigures() throws Exception {
        HogLines hog = HogLines.ofConsole(Fixtures.text("stress-run-ours/console.log"));

        assertEquals(23.1, hog.spread("held_mb").median(), 1e-9);
        assertEquals(6.0, hog.spread("trough_mb").min(), 1e-9);
        assertEquals(18, hog.total("cut"));
        assertEquals("1.0 / 1.3, floor 6.0", hog.watermarks());
        assertEquals("DMA 5.2 / 0.3, DMA32 1.0 / 1.0", hog.zoneMedians());
    }

    @Test
    void noneOutsideTheStressedPart() {
        HogLines hog = HogLines.ofConsole("MEMHOG t=1 held_mb=20.0\nGUEST-PHASE stressed begin\nGUEST-PHASE stressed end\n");

        assertTrue(hog.isEmpty());
        assertEquals("", hog.watermarks());
    }
}
