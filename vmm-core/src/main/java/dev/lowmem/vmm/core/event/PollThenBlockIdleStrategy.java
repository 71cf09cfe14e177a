package dev.lowmem.vmm.core.event;

import java.io.IOException;
import java.util.function.LongSupplier;

/**
 * Polls for a window after the last work, then blocks. Polling catches the next burst without a
 * syscall, a guest notification or a thread's wake-up; the window ({@link PollWindow}) adapts to
 * what the sleeps show. A zero window blocks as soon as a cycle finds nothing.
 *
 * <p>Each empty poll yields the CPU ({@link Thread#yield()}, sched_yield): the thread that is
 * to answer what the worker just sent (a host's server on the same core, QEMU's vCPU when nothing
 * is pinned) runs at once instead of waiting for the window to end, and the worker, runnable
 * again as soon as it is alone, sees the answer without sleeping. Alone on its core, the yield
 * returns at once.
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
            Thread.yield();
        } else {
            blocker.block();
            // Woken by an event: work is likely, so poll a full window again before sleeping.
            lastWorkNanos = nanoClock.getAsLong();
            window.slept(lastWorkNanos - now);
        }
    }
}
