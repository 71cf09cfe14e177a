package dev.lowmem.vmm.core.pool;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Threads releasing buffers one user owns, while that user takes, drains and leaves: every
 * buffer must come home exactly once. A lost push leaves a buffer missing; a buffer on two
 * lists is taken twice; a release racing the owner's close that nobody drains keeps the slabs.
 */
class ReturnQueueConcurrencyTest {
    private static final PoolConfig CONFIG = new PoolConfig(256, 64, 1 << 20, 128, 16, 4);
    private static final int RELEASERS = 3;
    private static final int CYCLES = 20_000;
    private static final int BURST = 24;
    private static final PacketBuffer STOP = new PacketBuffer(java.lang.foreign.MemorySegment.NULL, null);

    @Test
    void buffersReleasedByOtherThreadsWhileTheOwnerTakesAllComeHomeExactlyOnce() throws Exception {
        try (PacketPool pool = new PacketPool(CONFIG, new RecordingAllocator())) {
            PoolUser owner = pool.join("owner");
            int total = pool.stats().slabs() * CONFIG.buffersPerSlab();
            List<BlockingQueue<PacketBuffer>> inboxes = new ArrayList<>();
            List<Thread> releasers = new ArrayList<>();
            for (int r = 0; r < RELEASERS; r++) {
                BlockingQueue<PacketBuffer> inbox = new ArrayBlockingQueue<>(total + 1);
                inboxes.add(inbox);
                releasers.add(Thread.ofPlatform().name("releaser-" + r).start(() -> releaseUntilStopped(inbox)));
            }

            for (int cycle = 0; cycle < CYCLES; cycle++) {
                for (int i = 0; i < BURST; i++) {
                    PacketBuffer buffer = owner.take();
                    if (buffer == null) {
                        break; // all out with the releasers for now
                    }
                    if (i % 4 == 0) {
                        buffer.release();
                    } else {
                        inboxes.get(i % RELEASERS).add(buffer);
                    }
                }
                owner.drainReturns();
            }
            for (BlockingQueue<PacketBuffer> inbox : inboxes) {
                inbox.add(STOP);
            }
            for (Thread releaser : releasers) {
                releaser.join();
            }

            Set<PacketBuffer> seen = Collections.newSetFromMap(new IdentityHashMap<>());
            int taken = 0;
            for (PacketBuffer buffer = owner.take(); buffer != null; buffer = owner.take()) {
                taken++;
                assertTrue(seen.add(buffer), "buffer at 0x" + Long.toHexString(buffer.address()) + " taken twice");
            }
            assertEquals(total, taken, "every buffer home");
        }
    }

    @Test
    void releasesRacingTheOwnersCloseAllComeHome() throws Exception {
        RecordingAllocator allocator = new RecordingAllocator();
        try (PacketPool pool = new PacketPool(CONFIG, allocator)) {
            for (int round = 0; round < 200; round++) {
                PoolUser owner = pool.join("owner " + round);
                List<PacketBuffer> out = new ArrayList<>();
                for (PacketBuffer buffer = owner.take(); buffer != null; buffer = owner.take()) {
                    out.add(buffer);
                }
                CountDownLatch start = new CountDownLatch(1);
                List<Thread> releasers = new ArrayList<>();
                for (int r = 0; r < 2; r++) {
                    List<PacketBuffer> share = out.subList(r * out.size() / 2, (r + 1) * out.size() / 2);
                    releasers.add(Thread.ofPlatform().start(() -> {
                        awaitQuietly(start);
                        share.forEach(PacketBuffer::release);
                    }));
                }

                start.countDown();
                owner.close();
                for (Thread releaser : releasers) {
                    releaser.join();
                }

                assertEquals(0, allocator.live(), "round " + round + ": the slabs go once every buffer is home");
            }
        }
    }

    private static void releaseUntilStopped(BlockingQueue<PacketBuffer> inbox) {
        try {
            for (PacketBuffer buffer = inbox.take(); buffer != STOP; buffer = inbox.take()) {
                buffer.release();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
