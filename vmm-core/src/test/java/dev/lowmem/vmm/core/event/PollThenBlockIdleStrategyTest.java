package dev.lowmem.vmm.core.event;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;

/** The idle policy on a fake clock: no sleeps, no real time. */
class PollThenBlockIdleStrategyTest {
    private static final Duration WINDOW = Duration.ofNanos(50_000);

    private final AtomicLong now = new AtomicLong(1_000_000);
    private final Blocker blocker = mock(Blocker.class);
    private final PollThenBlockIdleStrategy idle = new PollThenBlockIdleStrategy(PollWindow.fixed(WINDOW), blocker, now::get);

    @Test
    void itPollsWithinTheWindowAfterWork() throws Exception {
        idle.idle(5);
        now.addAndGet(WINDOW.toNanos() - 1);
        idle.idle(0);
        idle.idle(0);
        verify(blocker, never()).block();
    }

    @Test
    void itBlocksOnceTheWindowHasPassedWithoutWork() throws Exception {
        idle.idle(5);
        now.addAndGet(WINDOW.toNanos());
        idle.idle(0);
        verify(blocker, times(1)).block();
    }

    @Test
    void wakingUpOpensAFreshWindow() throws Exception {
        now.addAndGet(WINDOW.toNanos());
        idle.idle(0);
        now.addAndGet(WINDOW.toNanos() - 1);
        idle.idle(0);
        verify(blocker, times(1)).block();
        now.addAndGet(1);
        idle.idle(0);
        verify(blocker, times(2)).block();
    }

    @Test
    void workKeepsPushingTheWindowOut() throws Exception {
        for (int i = 0; i < 10; i++) {
            now.addAndGet(WINDOW.toNanos() - 1);
            idle.idle(1);
        }
        now.addAndGet(WINDOW.toNanos() - 1);
        idle.idle(0);
        verify(blocker, never()).block();
    }

    @Test
    void aSleepTheWindowCouldHaveCoveredLengthensTheNextWindow() throws Exception {
        AtomicInteger sleeps = new AtomicInteger();
        // Each sleep ends a window after it began: the work came two windows after the last.
        PollThenBlockIdleStrategy adaptive = new PollThenBlockIdleStrategy(
                PollWindow.adaptive(WINDOW, WINDOW.multipliedBy(10)), () -> {
                    sleeps.incrementAndGet();
                    now.addAndGet(WINDOW.toNanos());
                }, now::get);
        now.addAndGet(WINDOW.toNanos());
        adaptive.idle(0);
        assertEquals(1, sleeps.get());
        now.addAndGet(2 * WINDOW.toNanos() - 1);
        adaptive.idle(0);
        assertEquals(1, sleeps.get(), "the window now covers the two windows the work took");
        now.addAndGet(1);
        adaptive.idle(0);
        assertEquals(2, sleeps.get());
    }

    @Test
    void aZeroWindowBlocksAsSoonAsACycleFindsNothing() throws Exception {
        PollThenBlockIdleStrategy noPolling = new PollThenBlockIdleStrategy(PollWindow.fixed(Duration.ZERO), blocker, now::get);
        noPolling.idle(3);
        verify(blocker, never()).block();
        noPolling.idle(0);
        verify(blocker, times(1)).block();
    }
}
