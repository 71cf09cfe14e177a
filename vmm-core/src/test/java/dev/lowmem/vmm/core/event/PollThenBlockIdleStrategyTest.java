package dev.lowmem.vmm.core.event;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;

/** The idle policy on a fake clock: no sleeps, no real time. */
class PollThenBlockIdleStrategyTest {
    private static final Duration WINDOW = Duration.ofNanos(50_000);

    private final AtomicLong now = new AtomicLong(1_000_000);
    private final Blocker blocker = mock(Blocker.class);
    private final PollThenBlockIdleStrategy idle = new PollThenBlockIdleStrategy(WINDOW, blocker, now::get);

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
    void aZeroWindowBlocksAsSoonAsACycleFindsNothing() throws Exception {
        PollThenBlockIdleStrategy noPolling = new PollThenBlockIdleStrategy(Duration.ZERO, blocker, now::get);
        noPolling.idle(3);
        verify(blocker, never()).block();
        noPolling.idle(0);
        verify(blocker, times(1)).block();
    }
}
