package dev.lowmem.vmm.core.event;

import java.io.IOException;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Busy-polls for a window after the last work, then blocks. Polling catches the next burst
 * without a syscall or a guest notification; the window is short because on a small machine the
 * spinning core is one the guest needs. A zero window blocks as soon as a cycle finds nothing.
 */
public final class PollThenBlockIdleStrategy implements IdleStrategy {
    private final long pollWindowNanos;
    private final Blocker blocker;
    private final LongSupplier nanoClock;
    private long lastWorkNanos;

    public PollThenBlockIdleStrategy(Duration pollWindow, Blocker blocker) {
        this(pollWindow, blocker, System::nanoTime);
    }

    /** @param nanoClock a monotonic clock in nanoseconds; tests pass a fake one */
    public PollThenBlockIdleStrategy(Duration pollWindow, Blocker blocker, LongSupplier nanoClock) {
        if (pollWindow.isNegative()) {
            throw new IllegalArgumentException("poll window must not be negative: " + pollWindow);
        }
        this.pollWindowNanos = pollWindow.toNanos();
        this.blocker = blocker;
        this.nanoClock = nanoClock;
        this.lastWorkNanos = nanoClock.getAsLong();
    }

    @Override
    public void idle(int workCount) throws IOException {
        long now = nanoClock.getAsLong();
        if (workCount > 0) {
            lastWorkNanos = now;
        } else if (now - lastWorkNanos < pollWindowNanos) {
            Thread.onSpinWait();
        } else {
            blocker.block();
            // Woken by an event: work is likely, so poll a full window again before sleeping.
            lastWorkNanos = nanoClock.getAsLong();
        }
    }
}
