package dev.lowmem.virtio.queue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static dev.lowmem.virtio.queue.PackedRing.F_INDIRECT;
import static dev.lowmem.virtio.queue.PackedRing.F_NEXT;
import static dev.lowmem.virtio.queue.PackedRing.F_WRITE;
import static dev.lowmem.virtio.queue.VirtqueueRig.DATA_BASE;
import static dev.lowmem.virtio.queue.VirtqueueRig.INDIRECT_BASE;
import static dev.lowmem.virtio.queue.VirtqueueRig.MEMORY_END;
import static dev.lowmem.virtio.queue.VirtqueueRig.REGION_BOUNDARY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A guest that writes its packed ring by hand, wrongly: as for split rings, each malformed chain
 * is a typed error returned with length 0 and the queue goes on from the right slot; a chain
 * with no end stops the queue.
 */
class PackedHostileGuestTest {
    private static final int SIZE = 8;
    private static final int BAD_ID = 5;
    private static final int GOOD_ID = 6;
    private static final int NOT_THE_ID = 0x7777;

    private VirtqueueRig rig;
    private MemorySegment ring;
    private DeviceQueue device;
    private DescriptorChain chain;
    /** The next slot the guest writes, in the first lap (wrap counter 1). */
    private int slot;

    @BeforeEach
    void open() throws Exception {
        rig = VirtqueueRig.open(QueueLayout.PACKED, SIZE, false);
        ring = rig.bytes(rig.config().rings().descArea(), (long) PackedRing.DESC_SIZE * SIZE);
        device = rig.device();
        chain = device.newChain();
    }

    @AfterEach
    void close() {
        rig.close();
    }

    @Test
    void aBufferOutsideMemory() {
        assertRefused(ChainError.BUFFER_OUTSIDE_MEMORY, new long[] {MEMORY_END, 16, 0});
    }

    @Test
    void aBufferWhoseEndWrapsPast2To64() {
        assertRefused(ChainError.BUFFER_OUTSIDE_MEMORY, new long[] {-8, 16, 0});
    }

    /** The walk goes past the bad descriptor to the chain's end, so the next chain starts where it should. */
    @Test
    void aBadBufferAtTheStartOfALongerChain() {
        assertRefused(ChainError.BUFFER_OUTSIDE_MEMORY,
                new long[] {MEMORY_END, 16, F_NEXT}, new long[] {DATA_BASE, 16, F_NEXT}, new long[] {DATA_BASE, 16, 0});
    }

    @Test
    void aReadableBufferAfterAWritableOne() {
        assertRefused(ChainError.READABLE_AFTER_WRITABLE,
                new long[] {DATA_BASE, 16, F_WRITE | F_NEXT}, new long[] {DATA_BASE, 16, 0});
    }

    @Test
    void anIndirectTableWhoseLengthIsNotAMultipleOf16() {
        assertRefused(ChainError.INDIRECT_LENGTH_INVALID, new long[] {INDIRECT_BASE, 40, F_INDIRECT});
    }

    @Test
    void anEmptyIndirectTable() {
        assertRefused(ChainError.INDIRECT_LENGTH_INVALID, new long[] {INDIRECT_BASE, 0, F_INDIRECT});
    }

    @Test
    void anIndirectTableOfMoreThan1024Entries() {
        assertRefused(ChainError.INDIRECT_LENGTH_INVALID, new long[] {INDIRECT_BASE, 16 * 1025, F_INDIRECT});
    }

    @Test
    void anIndirectTableOutsideMemory() {
        assertRefused(ChainError.INDIRECT_TABLE_OUTSIDE_MEMORY, new long[] {MEMORY_END, 32, F_INDIRECT});
    }

    @Test
    void anIndirectTableAcrossTwoRegions() {
        assertRefused(ChainError.INDIRECT_TABLE_OUTSIDE_MEMORY, new long[] {REGION_BOUNDARY - 16, 32, F_INDIRECT});
    }

    @Test
    void anIndirectTableHoldingAnIndirectDescriptor() {
        MemorySegment table = rig.bytes(INDIRECT_BASE, 32);
        writeDesc(table, 0, DATA_BASE, 16, 0, 0);
        writeDesc(table, 1, INDIRECT_BASE, 32, 0, F_INDIRECT);
        assertRefused(ChainError.INDIRECT_NESTED, new long[] {INDIRECT_BASE, 32, F_INDIRECT});
    }

    @Test
    void aBufferInsideAnIndirectTableOutsideMemory() {
        MemorySegment table = rig.bytes(INDIRECT_BASE, 32);
        writeDesc(table, 0, DATA_BASE, 16, 0, 0);
        writeDesc(table, 1, MEMORY_END - 4, 16, 0, F_WRITE);
        assertRefused(ChainError.BUFFER_OUTSIDE_MEMORY, new long[] {INDIRECT_BASE, 32, F_INDIRECT});
    }

    @Test
    void anIndirectDescriptorWithNext() {
        writeDesc(rig.bytes(INDIRECT_BASE, 16), 0, DATA_BASE, 16, 0, 0);
        assertRefused(ChainError.INDIRECT_WITH_NEXT,
                new long[] {INDIRECT_BASE, 16, F_INDIRECT | F_NEXT}, new long[] {DATA_BASE, 16, 0});
    }

    @Test
    void aChainWithNextOnEveryDescriptorOfTheRingStopsTheQueue() {
        for (int i = 0; i < SIZE; i++) {
            writeDesc(ring, i, DATA_BASE, 16, BAD_ID, F_NEXT | PackedRing.availableFlags(true));
        }
        assertFalse(device.pop(chain));
        assertEquals(QueueFault.CHAIN_WRAPS_RING, device.fault());
        assertFalse(device.pop(chain), "a faulted queue hands out nothing more");
        assertFalse(device.enableNotifications());
    }

    /**
     * Offers a chain of the given descriptors ({address, length, flags}) under {@link #BAD_ID},
     * checks it is refused for {@code reason} and returned with length 0, then that a good chain
     * after it still flows.
     */
    private void assertRefused(ChainError reason, long[]... descriptors) {
        int first = slot;
        offer(BAD_ID, descriptors);
        assertTrue(device.pop(chain));
        assertEquals(reason, chain.error(), chain::describeError);
        assertEquals(0, chain.buffers().count(), "nothing of a malformed chain may reach a port");
        assertEquals(BAD_ID, chain.head());

        device.pushUsed(chain, 0);
        device.publishUsed();
        assertTrue(device.needsInterrupt());
        long at = PackedRing.descOffset(first);
        assertTrue(PackedRing.isUsed(Ring.u16(ring, at + PackedRing.DESC_FLAGS), true));
        assertEquals(BAD_ID, Ring.u16(ring, at + PackedRing.DESC_ID));
        assertEquals(0, ring.get(Ring.U32, at + PackedRing.DESC_LEN));

        offer(GOOD_ID, new long[] {DATA_BASE, 64, 0});
        assertTrue(device.pop(chain));
        assertNull(chain.error());
        assertEquals(GOOD_ID, chain.head());
        assertEquals(64, chain.readableLength());
        assertNull(device.fault());
    }

    /**
     * Writes a chain from {@link #slot} on, the head's flags last, as a driver does. Only the last
     * descriptor carries the buffer id (as DPDK's driver writes it); the others carry
     * {@link #NOT_THE_ID}.
     */
    private void offer(int id, long[]... descriptors) {
        int head = slot;
        int last = slot + descriptors.length - 1;
        for (long[] d : descriptors) {
            if (slot != head) {
                writeDesc(ring, slot, d[0], (int) d[1], slot == last ? id : NOT_THE_ID,
                        (int) d[2] | PackedRing.availableFlags(true));
            }
            slot++;
        }
        long[] d = descriptors[0];
        writeDesc(ring, head, d[0], (int) d[1], head == last ? id : NOT_THE_ID, -1);
        Ring.putU16Release(ring, PackedRing.descOffset(head) + PackedRing.DESC_FLAGS,
                (int) d[2] | PackedRing.availableFlags(true));
    }

    /** Writes a descriptor; a negative {@code flags} leaves the flags as they are. */
    private static void writeDesc(MemorySegment table, int index, long address, int length, int id, int flags) {
        long at = PackedRing.descOffset(index);
        table.set(Ring.U64, at + PackedRing.DESC_ADDR, address);
        table.set(Ring.U32, at + PackedRing.DESC_LEN, length);
        Ring.putU16(table, at + PackedRing.DESC_ID, id);
        if (flags >= 0) {
            Ring.putU16(table, at + PackedRing.DESC_FLAGS, flags);
        }
    }
}
