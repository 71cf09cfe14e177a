package dev.lowmem.virtio.queue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static dev.lowmem.virtio.queue.SplitRing.F_INDIRECT;
import static dev.lowmem.virtio.queue.SplitRing.F_NEXT;
import static dev.lowmem.virtio.queue.SplitRing.F_WRITE;
import static dev.lowmem.virtio.queue.VirtqueueRig.DATA_BASE;
import static dev.lowmem.virtio.queue.VirtqueueRig.INDIRECT_BASE;
import static dev.lowmem.virtio.queue.VirtqueueRig.MEMORY_END;
import static dev.lowmem.virtio.queue.VirtqueueRig.REGION_BOUNDARY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A guest that writes its split ring by hand, wrongly. Each malformed chain must come out of
 * {@code pop} as a typed error with no buffers, go back to the guest with length 0 and an
 * interrupt, and leave the queue serving the next chain; a ring with no sound position stops
 * the queue with a typed fault. Nothing throws, nothing loops.
 */
class SplitHostileGuestTest {
    private static final int SIZE = 8;
    /** A descriptor the tests keep well-formed, to show the queue goes on. */
    private static final int GOOD = SIZE - 1;

    private VirtqueueRig rig;
    private MemorySegment desc;
    private MemorySegment avail;
    private MemorySegment used;
    private DeviceQueue device;
    private DescriptorChain chain;
    private int availIdx;

    @BeforeEach
    void open() throws Exception {
        rig = VirtqueueRig.open(QueueLayout.SPLIT, SIZE, false);
        RingAddresses rings = rig.config().rings();
        desc = rig.bytes(rings.descArea(), SplitRing.descTableSize(SIZE));
        avail = rig.bytes(rings.driverArea(), SplitRing.availSize(SIZE));
        used = rig.bytes(rings.deviceArea(), SplitRing.usedSize(SIZE));
        device = rig.device();
        chain = device.newChain();
        writeDesc(desc, GOOD, DATA_BASE, 64, 0, 0);
    }

    @AfterEach
    void close() {
        rig.close();
    }

    @Test
    void aBufferOutsideMemory() {
        writeDesc(desc, 0, MEMORY_END, 16, 0, 0);
        assertRefused(ChainError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void aBufferRunningPastTheEndOfMemory() {
        writeDesc(desc, 0, MEMORY_END - 8, 16, 0, 0);
        assertRefused(ChainError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void aBufferWhoseEndWrapsPast2To64() {
        writeDesc(desc, 0, -8, 16, 0, 0);
        assertRefused(ChainError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void aBufferInTheMiddleOfTheChainOutsideMemory() {
        writeDesc(desc, 0, DATA_BASE, 16, F_NEXT, 1);
        writeDesc(desc, 1, MEMORY_END + 4096, 16, F_NEXT, 2);
        writeDesc(desc, 2, DATA_BASE, 16, 0, 0);
        assertRefused(ChainError.BUFFER_OUTSIDE_MEMORY);
    }

    @Test
    void aLoopOfNextIndices() {
        writeDesc(desc, 0, DATA_BASE, 16, F_NEXT, 1);
        writeDesc(desc, 1, DATA_BASE, 16, F_NEXT, 0);
        assertRefused(ChainError.CHAIN_TOO_LONG);
    }

    @Test
    void aDescriptorThatIsItsOwnNext() {
        writeDesc(desc, 0, DATA_BASE, 16, F_NEXT, 0);
        assertRefused(ChainError.CHAIN_TOO_LONG);
    }

    @Test
    void aLoopInsideAnIndirectTable() {
        MemorySegment table = rig.bytes(INDIRECT_BASE, 64);
        writeDesc(table, 0, DATA_BASE, 16, F_NEXT, 1);
        writeDesc(table, 1, DATA_BASE, 16, F_NEXT, 0);
        writeDesc(desc, 0, INDIRECT_BASE, 64, F_INDIRECT, 0);
        assertRefused(ChainError.CHAIN_TOO_LONG);
    }

    @Test
    void aNextIndexOutsideTheTable() {
        writeDesc(desc, 0, DATA_BASE, 16, F_NEXT, SIZE);
        assertRefused(ChainError.NEXT_OUT_OF_RANGE);
    }

    @Test
    void aNextIndexOutsideTheIndirectTable() {
        MemorySegment table = rig.bytes(INDIRECT_BASE, 32);
        writeDesc(table, 0, DATA_BASE, 16, F_NEXT, 2);
        writeDesc(desc, 0, INDIRECT_BASE, 32, F_INDIRECT, 0);
        assertRefused(ChainError.NEXT_OUT_OF_RANGE);
    }

    @Test
    void anIndirectTableWhoseLengthIsNotAMultipleOf16() {
        writeDesc(desc, 0, INDIRECT_BASE, 24, F_INDIRECT, 0);
        assertRefused(ChainError.INDIRECT_LENGTH_INVALID);
    }

    @Test
    void anEmptyIndirectTable() {
        writeDesc(desc, 0, INDIRECT_BASE, 0, F_INDIRECT, 0);
        assertRefused(ChainError.INDIRECT_LENGTH_INVALID);
    }

    @Test
    void anIndirectTableOfMoreThan1024Entries() {
        writeDesc(desc, 0, INDIRECT_BASE, 16 * 1025, F_INDIRECT, 0);
        assertRefused(ChainError.INDIRECT_LENGTH_INVALID);
    }

    /** Linux puts all of an skb's fragments in one table, whatever the queue size. */
    @Test
    void anIndirectTableLongerThanTheQueueIsTaken() {
        MemorySegment table = rig.bytes(INDIRECT_BASE, 16L * (SIZE + 1));
        for (int i = 0; i <= SIZE; i++) {
            writeDesc(table, i, DATA_BASE + 64L * i, 64, i < SIZE ? F_NEXT : 0, i + 1);
        }
        writeDesc(desc, 0, INDIRECT_BASE, 16 * (SIZE + 1), F_INDIRECT, 0);
        offer(0);
        assertTrue(device.pop(chain));
        assertNull(chain.error(), chain::describeError);
        assertEquals(64L * (SIZE + 1), chain.readableLength());
    }

    @Test
    void anIndirectTableOutsideMemory() {
        writeDesc(desc, 0, MEMORY_END - 16, 32, F_INDIRECT, 0);
        assertRefused(ChainError.INDIRECT_TABLE_OUTSIDE_MEMORY);
    }

    @Test
    void anIndirectTableAcrossTwoRegions() {
        writeDesc(desc, 0, REGION_BOUNDARY - 16, 32, F_INDIRECT, 0);
        assertRefused(ChainError.INDIRECT_TABLE_OUTSIDE_MEMORY);
    }

    @Test
    void anIndirectTableHoldingAnIndirectDescriptor() {
        MemorySegment table = rig.bytes(INDIRECT_BASE, 32);
        writeDesc(table, 0, DATA_BASE, 16, F_NEXT, 1);
        writeDesc(table, 1, INDIRECT_BASE, 32, F_INDIRECT, 0);
        writeDesc(desc, 0, INDIRECT_BASE, 32, F_INDIRECT, 0);
        assertRefused(ChainError.INDIRECT_NESTED);
    }

    @Test
    void anIndirectDescriptorWithNext() {
        writeDesc(rig.bytes(INDIRECT_BASE, 16), 0, DATA_BASE, 16, 0, 0);
        writeDesc(desc, 0, INDIRECT_BASE, 16, F_INDIRECT | F_NEXT, 1);
        writeDesc(desc, 1, DATA_BASE, 16, 0, 0);
        assertRefused(ChainError.INDIRECT_WITH_NEXT);
    }

    @Test
    void aReadableBufferAfterAWritableOne() {
        writeDesc(desc, 0, DATA_BASE, 16, F_WRITE | F_NEXT, 1);
        writeDesc(desc, 1, DATA_BASE + 16, 16, 0, 0);
        assertRefused(ChainError.READABLE_AFTER_WRITABLE);
    }

    @Test
    void aHeadIndexOutsideTheTableStopsTheQueue() {
        offer(SIZE);
        offer(GOOD);
        assertFalse(device.pop(chain));
        assertEquals(QueueFault.HEAD_OUT_OF_RANGE, device.fault());
        assertTrue(device.describeFault().contains(": " + SIZE), device.describeFault());
        assertFalse(device.pop(chain), "a faulted queue hands out nothing more");
        assertFalse(device.enableNotifications());
    }

    @Test
    void anAvailIndexRunningAheadByMoreThanTheQueueSizeStopsTheQueue() {
        Ring.putU16Release(avail, SplitRing.RING_IDX, SIZE + 1);
        assertFalse(device.pop(chain));
        assertEquals(QueueFault.AVAIL_INDEX_JUMP, device.fault());
        assertFalse(device.pop(chain));
    }

    @Test
    void anAvailIndexAheadByExactlyTheQueueSizeIsAFullRing() {
        for (int i = 0; i < SIZE; i++) {
            offer(GOOD);
        }
        for (int i = 0; i < SIZE; i++) {
            assertTrue(device.pop(chain));
        }
        assertNull(device.fault());
    }

    /** Pops the chain at head 0, checks it is refused for {@code reason}, then that a good chain still flows. */
    private void assertRefused(ChainError reason) {
        offer(0);
        assertTrue(device.pop(chain));
        assertEquals(reason, chain.error(), chain::describeError);
        assertEquals(0, chain.buffers().count(), "nothing of a malformed chain may reach a port");
        assertEquals(0, chain.head());

        int usedBefore = Ring.u16(used, SplitRing.RING_IDX);
        device.pushUsed(chain, 0);
        device.publishUsed();
        assertTrue(device.needsInterrupt());
        long element = SplitRing.usedElem(usedBefore % SIZE);
        assertEquals(usedBefore + 1, Ring.u16(used, SplitRing.RING_IDX));
        assertEquals(0, used.get(Ring.U32, element + SplitRing.USED_ELEM_ID));
        assertEquals(0, used.get(Ring.U32, element + SplitRing.USED_ELEM_LEN));

        offer(GOOD);
        assertTrue(device.pop(chain));
        assertNull(chain.error());
        assertEquals(GOOD, chain.head());
        assertEquals(64, chain.readableLength());
        assertNull(device.fault());
    }

    private void offer(int head) {
        Ring.putU16(avail, SplitRing.availEntry(availIdx % SIZE), head);
        availIdx++;
        Ring.putU16Release(avail, SplitRing.RING_IDX, availIdx);
    }

    private static void writeDesc(MemorySegment table, int index, long address, int length, int flags, int next) {
        long at = (long) SplitRing.DESC_SIZE * index;
        table.set(Ring.U64, at + SplitRing.DESC_ADDR, address);
        table.set(Ring.U32, at + SplitRing.DESC_LEN, length);
        Ring.putU16(table, at + SplitRing.DESC_FLAGS, flags);
        Ring.putU16(table, at + SplitRing.DESC_NEXT, next);
    }
}
