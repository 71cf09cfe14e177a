package dev.lowmem.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MemoryHogTest {
    @Test
    void readsTheFieldsOfALineASecond() {
        MemoryHog.Second second = MemoryHog.Second.parse("MEMHOG t=12 held_mb=32.8 churn_mb=39.8 cut=3 free_mb=9.3"
                + " trough_mb=5.3 min_mb=1.0 low_mb=1.3 avail_mb=14.9 cpu_pct=22 zones_at_dip=DMA:4.0/0.3,DMA32:1.3/1.0");

        assertEquals(32.8, second.number("held_mb"));
        assertEquals(3, second.number("cut"));
        assertEquals("DMA:4.0/0.3,DMA32:1.3/1.0", second.fields().get("zones_at_dip"));
        assertTrue(Double.isNaN(second.number("no_such_field")));
    }
}
