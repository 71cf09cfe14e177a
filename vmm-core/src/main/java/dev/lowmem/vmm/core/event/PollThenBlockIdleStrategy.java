package dev.lowmem.vmm.core.event;

import java.io.IOException;
import java.util.function.LongSupplier;

/**
 * Polls for a window after the last work, then blocks. Polling catches the next burst without a
 * syscall, a guest notification or a thread's wake-up; the window ({@link PollWindow}) adapts to
 * what the sleeps show. A zero window blocks as soon as a cycle finds nothing.
 *
 * <p>An empty poll spins ({@link Thread#onSpinWait()}) rather than yield the CPU: a thread that
 * wakes on the worker's core (a host's server answering what the worker sent) preempts a spinner
 * anyway, and a yield on a crowded core would give up the worker's share of it for as long as the
 * others run; in an A/B of a guest's round trips the yield bought nothing over the adaptive
 * window alone (docs/PERFORMANCE.md, "Round trips").
 */
public final class PollThenBlockIdleStrategy implements IdleStrategy {
    private final PollWindow window;
    private final Blocker blocker;
    private final LongSupplier nanoClock;
    private long lastWorkNanos;

    public PollThenBlockIdleStrategy(PollWindow window, Blocker blocker) {
        this(window, blocker, System::nanoTime);
    }

    /** @param nanoClock a monotonic clock in nanoseconds; tests pass a fake one */
    public PollThenBlockIdleStrategy(PollWindow window, Blocker blocker, LongSupplier nanoClock) {
        this.window = window;
        this.blocker = blocker;
        this.nanoClock = nanoClock;
        this.lastWorkNanos = nanoClock.getAsLong();
    }

    @Override
    public void idle(int workCount) throws IOException {
        long now = nanoClock.getAsLong();
        if (workCount > 0) {
            lastWorkNanos = now;
        } else if (now - lastWorkNanos < window.nanos()) {
            Thread.onSpinWait();
        } else {
            blocker.block();
            // Woken by an event: work is likely, so poll a full window again before sleeping.
            lastWorkNanos = nanoClock.getAsLong();
            window.slept(lastWorkNanos - now);
        }
    }
}
