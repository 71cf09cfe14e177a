package dev.lowmem.vmm.core.pool;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The datapath's use of the pool (take from the cache, release on the owner's thread or from
 * another, drain the returns) allocates nothing on the heap, by HotSpot's per-thread counter,
 * once the JIT has compiled it.
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

        assertEquals(0, allocated, "bytes allocated over 100000 cycles of " + BURST + " takes and releases");
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

        assertEquals(0, allocated[0], "bytes the owner allocated taking and draining");
        assertEquals(0, allocated[1], "bytes the releasing thread allocated");
        assertEquals(0, pool.stats().cacheMisses(), "every burst came back through the return queue");
    }

    /** Spins, yielding: on two cores the other side needs the CPU to move the turn on. */
    private static void awaitTurn(AtomicInteger turn, int expected) {
        while (turn.get() != expected) {
            Thread.yield();
        }
    }
}
