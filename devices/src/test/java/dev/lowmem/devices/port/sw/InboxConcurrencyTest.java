package dev.lowmem.devices.port.sw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.port.RxBuffers;
import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.vmm.core.memory.ScatterList;
import dev.lowmem.vmm.core.nativeio.IovecArray;
import dev.lowmem.vmm.core.pool.PacketBuffer;
import dev.lowmem.vmm.core.pool.PacketPool;
import dev.lowmem.vmm.core.pool.PoolConfig;
import dev.lowmem.vmm.core.pool.PoolUser;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * The inbox under its real load: several producer threads offering at once, each with its own
 * pool user, one consumer taking. Every packet arrives once, whole, and each producer's in the
 * order it offered them; the buffers all come home.
 */
class InboxConcurrencyTest {
    private static final int PRODUCERS = 3;
    private static final int PACKETS = 20_000;
    private static final int LENGTH = 16;
    private static final MemorySegment NO_OFFLOAD = MemorySegment.ofArray(new byte[VirtioNetHeader.SIZE]);

    @Test
    void everyPacketOfEveryProducerArrivesOnceAndInItsOrder() throws Exception {
        PacketPool pool = new PacketPool(PoolConfig.defaults());
        pool.startRefiller();
        Inbox inbox = new Inbox(1);
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> producers = new ArrayList<>();
        for (int p = 0; p < PRODUCERS; p++) {
            int producer = p;
            producers.add(Thread.ofPlatform().start(() -> produce(pool, inbox, producer, start)));
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment received = arena.allocate(LENGTH);
            ScatterList pieces = new ScatterList(1);
            pieces.add(received);
            IovecArray iovecs = new IovecArray(arena, 1);
            RxBuffers buffers = new RxBuffers(pieces, iovecs);
            int[] next = new int[PRODUCERS];
            start.countDown();
            for (int taken = 0; taken < PRODUCERS * PACKETS; ) {
                long length = inbox.peekLength();
                if (length == 0) {
                    Thread.onSpinWait();
                    continue;
                }
                assertEquals(LENGTH, length);
                inbox.copyOldestTo(buffers, 0);
                inbox.pop();
                int producer = received.get(ValueLayout.JAVA_INT, 0);
                int sequence = received.get(ValueLayout.JAVA_INT, 4);
                assertEquals(next[producer], sequence, "producer " + producer + "'s next packet");
                assertEquals(~sequence, received.get(ValueLayout.JAVA_INT, 8), "a packet whole");
                next[producer]++;
                taken++;
            }
            for (Thread producer : producers) {
                producer.join();
            }
            assertEquals(0, inbox.depth());
        } finally {
            pool.close();
        }
        assertTrue(pool.stats().takes() >= (long) PRODUCERS * PACKETS);
    }

    private static void produce(PacketPool pool, Inbox inbox, int producer, CountDownLatch start) {
        PacketBuffer[] frame = new PacketBuffer[1];
        try (PoolUser user = pool.join("producer " + producer)) {
            start.await();
            for (int sequence = 0; sequence < PACKETS; sequence++) {
                PacketBuffer buffer;
                while ((buffer = user.take()) == null) {
                    Thread.onSpinWait();
                }
                MemorySegment bytes = buffer.segment();
                bytes.set(ValueLayout.JAVA_INT, 0, producer);
                bytes.set(ValueLayout.JAVA_INT, 4, sequence);
                bytes.set(ValueLayout.JAVA_INT, 8, ~sequence);
                frame[0] = buffer;
                while (!inbox.offer(frame, 1, LENGTH, NO_OFFLOAD)) {
                    Thread.onSpinWait();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
