package dev.lowmem.vmm.core.event;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PollWindowTest {
    private static final long US = 1_000;
    private final PollWindow window = PollWindow.adaptive(Duration.ofNanos(50 * US), Duration.ofNanos(500 * US));

    @Test
    void itStartsAtItsFloor() {
        assertEquals(50 * US, window.nanos());
    }

    @Test
    void aSleepPollingWouldHaveCoveredGrowsTheWindowToCoverIt() {
        window.slept(250 * US);
        assertEquals(300 * US, window.nanos(), "the work came 50 + 250 us after the last");
    }

    @Test
    void aShortSleepAtLeastDoublesTheWindow() {
        window.slept(5 * US);
        assertEquals(100 * US, window.nanos());
    }

    @Test
    void theWindowNeverGrowsPastItsCeiling() {
        window.slept(250 * US);
        window.slept(150 * US);
        assertEquals(500 * US, window.nanos(), "doubling the 300 us would pass it");
    }

    @Test
    void aSleepLongerThanTheCeilingShrinksTheWindowByAnEighth() {
        window.slept(400 * US);
        window.slept(5_000 * US);
        assertEquals(450 * US - 450 * US / 8, window.nanos());
    }

    @Test
    void longSleepsDecayTheWindowToItsFloorAndNoFurther() {
        window.slept(400 * US);
        for (int i = 0; i < 100; i++) {
            window.slept(1_000_000 * US);
        }
        assertEquals(50 * US, window.nanos());
    }

    @Test
    void aZeroFloorGrowsFromTenMicroseconds() {
        PollWindow fromZero = PollWindow.adaptive(Duration.ZERO, Duration.ofNanos(500 * US));
        fromZero.slept(1 * US);
        assertEquals(10 * US, fromZero.nanos());
    }

    @Test
    void aFixedWindowStaysAsItIs() {
        PollWindow fixed = PollWindow.fixed(Duration.ofNanos(50 * US));
        fixed.slept(1 * US);
        fixed.slept(1_000_000 * US);
        assertEquals(50 * US, fixed.nanos());
    }

    @Test
    void aCeilingBelowTheFloorOrANegativeFloorIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> PollWindow.adaptive(Duration.ofNanos(2), Duration.ofNanos(1)));
        assertThrows(IllegalArgumentException.class, () -> PollWindow.adaptive(Duration.ofNanos(-1), Duration.ZERO));
    }
}
