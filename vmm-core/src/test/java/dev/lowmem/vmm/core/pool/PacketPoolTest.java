package dev.lowmem.vmm.core.pool;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pool seen by its users, one thread unless a test says otherwise. Most tests use a small
 * shape: 256-byte buffers, 16 to a slab, a reserve of 32 per user, a cache of 8 (a miss moves 4),
 * at most 2 slabs a round; a join then fills the shared list to 32 + 8 with 3 slabs.
 */
class PacketPoolTest {
    private static final PoolConfig SMALL = new PoolConfig(256, 16, 1 << 20, 32, 8, 2);
    private static final long SLAB = SMALL.slabBytes();

    private final RecordingAllocator allocator = new RecordingAllocator();
    private final List<PacketPool> pools = new ArrayList<>();

    private PacketPool open(PoolConfig config) {
        PacketPool pool = new PacketPool(config, allocator);
        pools.add(pool);
        return pool;
    }

    @AfterEach
    void closePools() {
        pools.forEach(PacketPool::close);
    }

    private static List<PacketBuffer> takeAll(PoolUser user) {
        List<PacketBuffer> taken = new ArrayList<>();
        for (PacketBuffer buffer = user.take(); buffer != null; buffer = user.take()) {
            taken.add(buffer);
        }
        return taken;
    }

    @Test
    void joinAllocatesSlabsInRoundsOfAtMostSlabsPerRefill() {
        PacketPool pool = open(SMALL);
        pool.join("q0");

        assertEquals(3, allocator.allocated.size(), "32 reserve + 8 for the cache need 3 slabs of 16");
        assertEquals(2, pool.stats().refillRounds(), "2 slabs, then 1");
        assertEquals(3, pool.stats().slabs());
        assertEquals(3 * SLAB, pool.stats().allocatedBytes());
    }

    @Test
    void slabsAreCarvedIntoDistinctNonOverlappingBuffersOfBufferSize() {
        PacketPool pool = open(SMALL);
        List<PacketBuffer> buffers = takeAll(pool.join("q0"));

        assertEquals(48, buffers.size());
        buffers.sort(Comparator.comparingLong(PacketBuffer::address));
        for (int i = 0; i < buffers.size(); i++) {
            PacketBuffer buffer = buffers.get(i);
            assertEquals(256, buffer.capacity());
            assertEquals(256, buffer.segment().byteSize());
            assertEquals(buffer.address(), buffer.segment().address());
            assertEquals(0, buffer.address() % 64, "each buffer starts a cache line");
            assertTrue(allocator.allocated.stream().anyMatch(slab -> inside(buffer.segment(), slab)));
            if (i > 0) {
                assertTrue(buffer.address() >= buffers.get(i - 1).address() + 256, "buffers " + (i - 1) + " and " + i);
            }
            buffer.segment().fill((byte) i);
        }
        for (int i = 0; i < buffers.size(); i++) {
            MemorySegment bytes = buffers.get(i).segment();
            assertEquals((byte) i, bytes.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals((byte) i, bytes.get(ValueLayout.JAVA_BYTE, 255));
        }
    }

    private static boolean inside(MemorySegment buffer, MemorySegment slab) {
        return buffer.address() >= slab.address()
                && buffer.address() + buffer.byteSize() <= slab.address() + slab.byteSize();
    }

    @Test
    void takesAndReleasesOnTheOwnerThreadStayInTheCache() {
        PacketPool pool = open(SMALL);
        PoolUser user = pool.join("q0");
        int shared = pool.stats().freeBuffers();

        for (int round = 0; round < 100; round++) {
            List<PacketBuffer> burst = new ArrayList<>();
            for (int i = 0; i < SMALL.cacheSize(); i++) {
                burst.add(user.take());
            }
            burst.forEach(PacketBuffer::release);
            user.drainReturns();
        }

        assertEquals(100L * SMALL.cacheSize(), pool.stats().takes());
        assertEquals(0, pool.stats().cacheMisses(), "the pre-filled cache served every take");
        assertEquals(shared, pool.stats().freeBuffers(), "the shared list was not touched");
    }

    @Test
    void theReserveTargetScalesWithTheUsersAndEachJoinFillsToIt() {
        PacketPool pool = open(PoolConfig.defaults());
        int[] targets = {256, 512, 1024};
        int[] usersAfter = {1, 2, 4};
        int joined = 0;
        for (int i = 0; i < targets.length; i++) {
            while (joined < usersAfter[i]) {
                pool.join("q" + joined++);
            }
            PoolStats stats = pool.stats();
            assertEquals(usersAfter[i], stats.users());
            assertEquals(targets[i], stats.reserveTarget());
            assertTrue(stats.freeBuffers() >= targets[i], stats.freeBuffers() + " free for " + targets[i]);
        }
        assertEquals(0, pool.stats().budgetFailures());
    }

    @Test
    void aRefillRoundAllocatesAtMostSlabsPerRefill() {
        PacketPool pool = open(new PoolConfig(256, 16, 1 << 20, 64, 8, 2));
        PoolUser user = pool.join("q0");
        takeAll(user);
        int before = allocator.allocated.size();

        assertTrue(pool.refill());
        assertEquals(before + 2, allocator.allocated.size(), "64 wanted, 2 slabs of 16 a round");
        assertTrue(pool.refill());
        assertEquals(before + 4, allocator.allocated.size());
        assertFalse(pool.refill(), "the shared list is at the target");
        assertEquals(64, pool.stats().freeBuffers());
    }

    @Test
    void takeNeverAllocatesASlab() {
        PacketPool pool = open(SMALL);
        PoolUser user = pool.join("q0");
        int slabs = allocator.allocated.size();

        assertEquals(48, takeAll(user).size());
        assertNull(user.take());
        assertEquals(slabs, allocator.allocated.size(), "only join and refill allocate");
    }

    @Test
    void theReserveServesWhileRefillIsLateAndRefillRestoresIt() {
        PacketPool pool = open(SMALL);
        PoolUser user = pool.join("q0");
        assertEquals(40, pool.stats().freeBuffers(), "48 carved, 8 in the cache");

        // 8 from the cache, then 4 misses of 4 each: the list goes 40, 36, 32, 28, 24, and the
        // last two batches come from under the target.
        for (int i = 0; i < 24; i++) {
            assertNotNull(user.take(), "take " + i);
        }
        assertEquals(24, pool.stats().freeBuffers());
        assertEquals(8, pool.stats().reserveTakes());
        assertEquals(0, pool.stats().budgetFailures() + pool.stats().nativeFailures());

        assertTrue(pool.refill());
        assertTrue(pool.stats().freeBuffers() >= pool.stats().reserveTarget());
    }

    @Test
    void aBufferReleasedOnAnotherThreadGoesToItsOwnersReturnQueue() throws Exception {
        PacketPool pool = open(SMALL);
        PoolUser owner = pool.join("owner");
        PoolUser other = pool.join("other");
        PacketBuffer buffer = owner.take();
        List<PacketBuffer> otherTook = new ArrayList<>();

        Thread releaser = Thread.ofPlatform().start(() -> {
            otherTook.add(other.take()); // binds "other" to this thread
            buffer.release();
            otherTook.addAll(takeAll(other));
        });
        releaser.join();

        assertFalse(otherTook.contains(buffer), "the releasing thread's own user never saw it");
        PacketBuffer beforeDrain = owner.take();
        assertNotSame(buffer, beforeDrain, "not in the owner's cache before the drain");
        beforeDrain.release();
        owner.drainReturns();
        assertSame(buffer, owner.take(), "back in the owner's cache, on top");
    }

    @Test
    void theLastUserLeavingFreesEverySlabOnceEveryBufferIsHome() throws Exception {
        PacketPool pool = open(SMALL);
        PoolUser first = pool.join("q0");
        PoolUser second = pool.join("q1");
        PacketBuffer heldByFirst = first.take();
        PacketBuffer heldBySecond = second.take();

        first.close();
        heldByFirst.release();
        second.close();
        assertEquals(0, allocator.freed.size(), "one buffer is still out");

        Thread late = Thread.ofPlatform().start(heldBySecond::release);
        late.join();

        assertEquals(allocator.allocated, allocator.freed);
        PoolStats stats = pool.stats();
        assertEquals(0, stats.allocatedBytes());
        assertEquals(0, stats.slabs());
        assertEquals(0, stats.freeBuffers());
        assertEquals(0, stats.reserveTarget());
        assertEquals(0, stats.users());
        assertEquals(2, stats.takes(), "takes of users that left still count");
    }

    @Test
    void aJoinAfterTheLastUserLeftFillsThePoolAgain() {
        PacketPool pool = open(SMALL);
        pool.join("q0").close();
        assertEquals(0, allocator.live());

        PoolUser again = pool.join("q0 again");

        assertEquals(3, allocator.live());
        assertEquals(48, takeAll(again).size());
    }

    @Test
    void takesBeyondTheBudgetReturnNullAndCountBudgetFailures() {
        PacketPool pool = open(SMALL.withBudget(2 * SLAB));
        PoolUser user = pool.join("q0");
        assertEquals(1, pool.stats().budgetFailures(), "the join's fill stopped at 2 of 3 slabs");

        assertEquals(32, takeAll(user).size());
        assertNull(user.take());

        PoolStats stats = pool.stats();
        assertEquals(3, stats.budgetFailures(), "the join's round and the two takes that found nothing");
        assertEquals(0, stats.nativeFailures());
        assertEquals(2 * SLAB, stats.allocatedBytes());
        assertFalse(pool.refill(), "the budget still says no");
        assertEquals(4, pool.stats().budgetFailures());
    }

    @Test
    void raisingTheBudgetWakesTheRefillerAndTakesSucceedAgain() {
        PacketPool pool = open(SMALL.withBudget(2 * SLAB));
        PoolUser user = pool.join("q0");
        List<PacketBuffer> held = takeAll(user);
        pool.startRefiller();

        pool.setBudget(1 << 20);

        awaitTrue(() -> pool.stats().freeBuffers() >= pool.stats().reserveTarget(), "the refiller fills to the target");
        assertNotNull(user.take());
        assertEquals(1 << 20, pool.budget());
        held.forEach(PacketBuffer::release);
    }

    @Test
    void loweringTheBudgetFreesTheSlabsWhoseBuffersAreAllInTheSharedList() {
        PacketPool pool = open(SMALL);
        PoolUser user = pool.join("q0"); // the cache holds 8 buffers of the third slab

        pool.setBudget(SLAB);

        assertEquals(2, allocator.freed.size());
        assertEquals(Set.copyOf(allocator.allocated.subList(0, 2)), Set.copyOf(allocator.freed),
                "the first two slabs, wholly free, in any order");
        assertEquals(SLAB, pool.stats().allocatedBytes());
        assertEquals(1, pool.stats().slabs());
        assertEquals(16, takeAll(user).size(), "the third slab still serves");
    }

    @Test
    void aMissBelowTheTargetWakesTheRefiller() {
        PacketPool pool = open(SMALL);
        PoolUser user = pool.join("q0");
        for (int i = 0; i < 16; i++) {
            user.take(); // the cache, then two batches: 40, 36, 32
        }
        assertFalse(pool.refillWanted(), "at the target is not below it");

        user.take(); // the third batch leaves 28

        assertTrue(pool.refillWanted());
    }

    @Test
    void takesDoNotWakeTheRefillerWhileTheBudgetStopsEveryRound() {
        PacketPool pool = open(SMALL.withBudget(2 * SLAB));
        PoolUser user = pool.join("q0");
        takeAll(user);
        assertFalse(pool.refillWanted(), "a round would only count another budget failure");

        pool.setBudget(3 * SLAB);

        assertTrue(pool.refillWanted());
    }

    @Test
    void theSystemRefusingMemoryIsCountedAndNeverThrown() {
        allocator.refusing = true;
        PacketPool pool = open(SMALL);
        PoolUser user = pool.join("q0");
        assertEquals(1, pool.stats().nativeFailures(), "the join's fill");

        assertNull(user.take());
        assertFalse(pool.refill());

        PoolStats stats = pool.stats();
        assertEquals(3, stats.nativeFailures(), "the join, the take, the refill");
        assertEquals(0, stats.budgetFailures());
        assertEquals(0, stats.allocatedBytes());
    }

    @Test
    void theFirstRefillAfterTheSystemRecoversFillsThePool() {
        allocator.refusing = true;
        PacketPool pool = open(SMALL);
        PoolUser user = pool.join("q0");
        assertNull(user.take());

        allocator.refusing = false;

        assertTrue(pool.refill());
        assertNotNull(user.take());
        assertEquals(2, pool.stats().slabs(), "to the target of 32, in one round");
    }

    @Test
    void closingThePoolFreesEverySlabEvenWithBuffersOut() {
        PacketPool pool = open(SMALL);
        PoolUser user = pool.join("q0");
        PacketBuffer out = user.take();

        pool.close();

        assertEquals(allocator.allocated, allocator.freed);
        assertEquals(0, pool.stats().allocatedBytes());
        out.release(); // comes home to a closed pool: dropped, not an error
    }

    private static void awaitTrue(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited 10 s for: " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }
}
