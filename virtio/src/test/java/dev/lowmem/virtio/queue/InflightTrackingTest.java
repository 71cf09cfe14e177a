package dev.lowmem.virtio.queue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static dev.lowmem.virtio.queue.VirtqueueRig.DATA_BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Inflight I/O tracking (vhost-user INFLIGHT_SHMFD) on real rings: a device queue that is dropped
 * mid-burst, as a back-end killed there, and a new one opened on the same rings and the same
 * inflight region, which must give the driver every chain exactly once.
 */
class InflightTrackingTest {
    private static final int SIZE = 16;
    private VirtqueueRig rig;
    private final Arena arena = Arena.ofConfined();
    private final DriverChain posted = new DriverChain(4);

    @AfterEach
    void close() {
        if (rig != null) {
            rig.close();
        }
        arena.close();
    }

    private MemorySegment region(QueueLayout layout) {
        return arena.allocate(layout.inflightRegionSize(SIZE), 64);
    }

    private DeviceQueue open(MemorySegment region, QueueLayout layout) throws InvalidQueueException {
        int base = layout == QueueLayout.PACKED ? PackedDeviceQueue.INITIAL_RING_BASE : 0;
        return DeviceQueue.open(rig.config(), rig.memory(), rig.memory()::translate, base, region);
    }

    /** Posts {@code count} chains of two descriptors (packed chains take two ring slots); returns their ids. */
    private List<Integer> post(int count) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(rig.driver().add(posted.clear().readable(DATA_BASE + 4096L * ids.size(), 64)
                    .writable(DATA_BASE + 0x10_0000 + 4096L * ids.size(), 256), false));
        }
        rig.driver().publish();
        return ids;
    }

    private List<Integer> used() {
        List<Integer> ids = new ArrayList<>();
        for (int id; (id = rig.driver().takeUsed()) >= 0; ) {
            ids.add(id);
        }
        return ids;
    }

    /** Pops {@code count} chains and pushes the first {@code returned} of them used, unpublished. */
    private static void popAndReturn(DeviceQueue device, int count, int returned) {
        for (int i = 0; i < count; i++) {
            DescriptorChain chain = device.newChain();
            assertTrue(device.pop(chain));
            if (i < returned) {
                device.pushUsed(chain, 0);
            }
        }
    }

    private static List<Integer> serveAll(DeviceQueue device) {
        List<Integer> served = new ArrayList<>();
        DescriptorChain chain = device.newChain();
        while (device.pop(chain)) {
            served.add(chain.head());
            device.pushUsed(chain, 0);
        }
        device.publishUsed();
        return served;
    }

    @ParameterizedTest
    @EnumSource(QueueLayout.class)
    void chainsPoppedAndNotReturnedWhenTheBackEndDiesAreServedFirstAndOnce(QueueLayout layout) throws Exception {
        rig = VirtqueueRig.open(layout, SIZE, false);
        MemorySegment region = region(layout);
        List<Integer> ids = post(6);

        DeviceQueue dying = open(region, layout);
        popAndReturn(dying, 2, 2);
        dying.publishUsed();
        // Three more popped, the first pushed used but never published: then the back-end dies.
        popAndReturn(dying, 3, 1);

        List<Integer> fresh = post(2);
        DeviceQueue resumed = open(region, layout);
        List<Integer> served = serveAll(resumed);

        List<Integer> expected = new ArrayList<>(ids.subList(2, 6));
        expected.addAll(fresh);
        assertEquals(expected, served, "the chains in flight first, oldest first, then the new ones");
        List<Integer> all = new ArrayList<>(ids);
        all.addAll(fresh);
        assertEquals(all, used(), "the driver gets each chain back exactly once");
        assertEquals(List.of(), serveAll(open(region, layout)), "a third back-end finds nothing in flight");
    }

    @ParameterizedTest
    @EnumSource(QueueLayout.class)
    void aBatchPublishedBeforeTheBackEndDiedIsNotServedAgain(QueueLayout layout) throws Exception {
        rig = VirtqueueRig.open(layout, SIZE, false);
        MemorySegment region = region(layout);
        List<Integer> ids = post(4);
        DeviceQueue dying = open(region, layout);
        popAndReturn(dying, 3, 3);
        byte[] beforePublish = layout == QueueLayout.SPLIT ? region.toArray(ValueLayout.JAVA_BYTE) : null;
        int[] heads = layout == QueueLayout.PACKED ? packedInflightHeads(region) : null;
        long committed = layout == QueueLayout.PACKED ? region.get(ValueLayout.JAVA_LONG, 8) : 0;
        dying.publishUsed();
        // The back-end dies right after the driver could see the batch, before its region says so.
        if (layout == QueueLayout.SPLIT) {
            MemorySegment.copy(MemorySegment.ofArray(beforePublish), 0, region, 0, beforePublish.length);
        } else {
            for (int head : heads) {
                region.set(ValueLayout.JAVA_BYTE, PackedInflight.HEADER_SIZE + (long) PackedInflight.DESC_SIZE * head, (byte) 1);
            }
            // old_free_head, old_used_idx and old_used_wrap_counter as they were committed before the batch.
            region.set(ValueLayout.JAVA_SHORT_UNALIGNED, 14, (short) (committed >>> 48));
            region.set(ValueLayout.JAVA_SHORT_UNALIGNED, 18, (short) 0);
            region.set(ValueLayout.JAVA_BYTE, 21, (byte) 1);
        }

        List<Integer> served = serveAll(open(region, layout));

        assertEquals(ids.subList(3, 4), served, "only the chain never returned is served");
        assertEquals(ids, used());
    }

    /** The head entries of a packed region marked inflight. */
    private static int[] packedInflightHeads(MemorySegment region) {
        List<Integer> heads = new ArrayList<>();
        for (int entry = 0; entry < SIZE; entry++) {
            if (region.get(ValueLayout.JAVA_BYTE, PackedInflight.HEADER_SIZE + (long) PackedInflight.DESC_SIZE * entry) == 1) {
                heads.add(entry);
            }
        }
        return heads.stream().mapToInt(Integer::intValue).toArray();
    }

    @ParameterizedTest
    @EnumSource(QueueLayout.class)
    void aResubmittedChainGivenBackComesAgain(QueueLayout layout) throws Exception {
        rig = VirtqueueRig.open(layout, SIZE, false);
        MemorySegment region = region(layout);
        List<Integer> ids = post(3);
        DeviceQueue dying = open(region, layout);
        DescriptorChain chain = dying.newChain();
        assertTrue(dying.pop(chain));
        assertTrue(dying.pop(chain));

        DeviceQueue resumed = open(region, layout);
        DescriptorChain first = resumed.newChain();
        DescriptorChain second = resumed.newChain();
        DescriptorChain third = resumed.newChain();
        assertTrue(resumed.pop(first));
        assertTrue(resumed.pop(second));
        assertTrue(resumed.pop(third));
        assertEquals(List.of(ids.get(0), ids.get(1), ids.get(2)), List.of(first.head(), second.head(), third.head()));
        // RX gives back what it could not fill, last popped first: one from the ring, one resubmitted.
        resumed.unpop(third);
        resumed.unpop(second);
        resumed.pushUsed(first, 0);
        resumed.publishUsed();

        assertEquals(ids.subList(1, 3), serveAll(resumed));
        assertEquals(ids, used());
    }

    @ParameterizedTest
    @EnumSource(QueueLayout.class)
    void withoutARegionTheQueueStartsWhereTheFrontEndSays(QueueLayout layout) throws Exception {
        rig = VirtqueueRig.open(layout, SIZE, false);
        List<Integer> ids = post(3);
        DeviceQueue dying = open(null, layout);
        DescriptorChain chain = dying.newChain();
        assertTrue(dying.pop(chain));
        // The popped chain is the front-end's to restore (QEMU sets last_avail_idx to used idx).
        assertEquals(ids.subList(1, 3), serveAll(dying));
    }

    @Test
    void garbageInASplitRegionRefusesTheQueue() throws Exception {
        rig = VirtqueueRig.open(QueueLayout.SPLIT, SIZE, false);
        MemorySegment region = region(QueueLayout.SPLIT);
        open(region, QueueLayout.SPLIT);
        region.set(ValueLayout.JAVA_BYTE, SplitInflight.HEADER_SIZE + 3L * SplitInflight.DESC_SIZE, (byte) 5);
        assertEquals("inflight region's descriptor 3 has inflight 5",
                assertThrows(InvalidQueueException.class, () -> open(region, QueueLayout.SPLIT)).getMessage());
        region.set(ValueLayout.JAVA_SHORT_UNALIGNED, 10, (short) 64);
        assertEquals("inflight region made for 64 descriptors, the queue has 16",
                assertThrows(InvalidQueueException.class, () -> open(region, QueueLayout.SPLIT)).getMessage());
        region.set(ValueLayout.JAVA_SHORT_UNALIGNED, 8, (short) 9);
        assertEquals("inflight region version 9; this back-end knows 1",
                assertThrows(InvalidQueueException.class, () -> open(region, QueueLayout.SPLIT)).getMessage());
        assertThrows(InvalidQueueException.class, () -> open(region.asSlice(0, 64), QueueLayout.SPLIT));
    }

    @Test
    void garbageInAPackedRegionRefusesTheQueue() throws Exception {
        rig = VirtqueueRig.open(QueueLayout.PACKED, SIZE, false);
        MemorySegment region = region(QueueLayout.PACKED);
        post(2);
        DeviceQueue dying = open(region, QueueLayout.PACKED);
        DescriptorChain chain = dying.newChain();
        assertTrue(dying.pop(chain));
        assertTrue(dying.pop(chain));
        long secondHead = PackedInflight.HEADER_SIZE + 2L * PackedInflight.DESC_SIZE;
        // The second chain's head claims the first chain's entries too.
        region.set(ValueLayout.JAVA_SHORT_UNALIGNED, secondHead + 6, (short) 4);
        region.set(ValueLayout.JAVA_SHORT_UNALIGNED, secondHead + 2, (short) 0);
        InvalidQueueException overlap = assertThrows(InvalidQueueException.class, () -> open(region, QueueLayout.PACKED));
        assertTrue(overlap.getMessage().contains("outside the queue or another chain's"), overlap.getMessage());
        region.set(ValueLayout.JAVA_SHORT_UNALIGNED, 18, (short) 99);
        assertEquals("inflight region's old_used_idx 99 is outside a queue of 16",
                assertThrows(InvalidQueueException.class, () -> open(region, QueueLayout.PACKED)).getMessage());
    }
}
