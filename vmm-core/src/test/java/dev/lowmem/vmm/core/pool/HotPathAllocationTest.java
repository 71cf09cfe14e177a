package dev.lowmem.vmm.core.pool;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The datapath's use of the pool (take from the cache, release on the owner's thread or from
 * another, drain the returns) allocates nothing on the heap, by HotSpot's per-thread counter,
 * once the JIT has compiled it. The bound is fewer bytes than buffers moved, not zero: a late
 * compilation or deoptimization on a loaded machine may allocate a few hundred bytes once, while
 * an object per take or release, the fault this guards against, would be megabytes.
 */
class HotPathAllocationTest {
    private static final int BURST = 32;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final PacketPool pool = new PacketPool(PoolConfig.defaults());
    private final PoolUser user = pool.join("q0");
    private final PacketBuffer[] burst = new PacketBuffer[BURST];

    @AfterEach
    void close() {
        pool.close();
    }

    @Test
    void takeReleaseAndDrainOnTheOwnerThreadAllocateNothing() {
        for (int i = 0; i < 20_000; i++) {
            ownerCycle();
        }
        long before = THREADS.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100_000; i++) {
            ownerCycle();
        }
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;

        assertFewerThanOneBytePerBuffer(allocated, 100_000L * BURST, "taking and releasing on the owner's thread");
        assertEquals(0, pool.stats().cacheMisses());
    }

    private void ownerCycle() {
        for (int i = 0; i < BURST; i++) {
            burst[i] = user.take();
        }
        for (int i = 0; i < BURST; i++) {
            burst[i].release();
        }
        user.drainReturns();
    }

    /**
     * The owner takes a burst, another thread releases it onto the return queue, the owner drains
     * it; the two hand over through one atomic turn counter, so neither allocates to wait.
     */
    @Test
    void releasesFromAnotherThreadAndTheOwnersDrainAllocateNothing() throws Exception {
        int warmUp = 20_000;
        int measured = 5_000;
        AtomicInteger turn = new AtomicInteger();
        long[] allocated = new long[2];
        Thread owner = Thread.ofPlatform().name("owner").start(() -> {
            long before = 0;
            for (int cycle = 0; cycle < warmUp + measured; cycle++) {
                if (cycle == warmUp) {
                    before = THREADS.getCurrentThreadAllocatedBytes();
                }
                awaitTurn(turn, 2 * cycle);
                for (int i = 0; i < BURST; i++) {
                    burst[i] = user.take();
                }
                turn.set(2 * cycle + 1);
                awaitTurn(turn, 2 * cycle + 2);
                user.drainReturns();
            }
            allocated[0] = THREADS.getCurrentThreadAllocatedBytes() - before;
        });
        Thread releaser = Thread.ofPlatform().name("releaser").start(() -> {
            long before = 0;
            for (int cycle = 0; cycle < warmUp + measured; cycle++) {
                if (cycle == warmUp) {
                    before = THREADS.getCurrentThreadAllocatedBytes();
                }
                awaitTurn(turn, 2 * cycle + 1);
                for (int i = 0; i < BURST; i++) {
                    burst[i].release();
                }
                turn.set(2 * cycle + 2);
            }
            allocated[1] = THREADS.getCurrentThreadAllocatedBytes() - before;
        });
        owner.join();
        releaser.join();

        assertFewerThanOneBytePerBuffer(allocated[0], (long) measured * BURST, "the owner, taking and draining");
        assertFewerThanOneBytePerBuffer(allocated[1], (long) measured * BURST, "the thread releasing");
        assertEquals(0, pool.stats().cacheMisses(), "every burst came back through the return queue");
    }

    private static void assertFewerThanOneBytePerBuffer(long allocated, long buffers, String who) {
        assertTrue(allocated < buffers, who + " allocated " + allocated + " bytes over " + buffers + " buffers");
    }

    /** Spins, yielding: on two cores the other side needs the CPU to move the turn on. */
    private static void awaitTurn(AtomicInteger turn, int expected) {
        while (turn.get() != expected) {
            Thread.yield();
        }
    }
}
