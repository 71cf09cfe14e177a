package dev.lowmem.vmm.core.event;

import java.time.Duration;

/**
 * How long a worker polls after its last work before it sleeps: between a floor and a ceiling,
 * adapted to what each sleep shows, the way KVM adapts its halt polling
 * (Linux, Documentation/virt/kvm/halt-polling.rst).
 *
 * <p>A sleep cut short by work that came within the ceiling (counted from the last work) is a
 * wake-up that polling would have saved: the window grows at once to cover it (at least
 * doubling), so that the next such gap, a reply the host sends back a few hundred microseconds
 * after the request went out, is caught without the sleep and the wake-up of two threads. A
 * sleep longer than that was not worth polling for: the window gives back an eighth, so a
 * request/response pattern keeps a window that catches its replies while an idle device decays
 * to the floor. With the floor equal to the ceiling the window is fixed.
 */
public final class PollWindow {
    /** Where growth starts from a zero window. */
    private static final long GROWTH_START_NANOS = 10_000;

    private final long floorNanos;
    private final long ceilingNanos;
    private long nanos;

    private PollWindow(long floorNanos, long ceilingNanos) {
        this.floorNanos = floorNanos;
        this.ceilingNanos = ceilingNanos;
        this.nanos = floorNanos;
    }

    public static PollWindow fixed(Duration window) {
        return adaptive(window, window);
    }

    /** @throws IllegalArgumentException for a negative floor or a ceiling below it */
    public static PollWindow adaptive(Duration floor, Duration ceiling) {
        if (floor.isNegative() || ceiling.compareTo(floor) < 0) {
            throw new IllegalArgumentException("poll window from " + floor + " to " + ceiling
                    + ": the floor must not be negative nor above the ceiling");
        }
        return new PollWindow(floor.toNanos(), ceiling.toNanos());
    }

    /** The window now, in nanoseconds. */
    public long nanos() {
        return nanos;
    }

    /** A sleep that followed a whole window without work ended after {@code sleptNanos}. */
    public void slept(long sleptNanos) {
        long sinceLastWork = nanos + sleptNanos;
        if (sinceLastWork <= ceilingNanos) {
            nanos = Math.min(ceilingNanos, Math.max(sinceLastWork, Math.max(2 * nanos, GROWTH_START_NANOS)));
        } else {
            nanos = Math.max(floorNanos, nanos - nanos / 8);
        }
    }
}
