package dev.lowmem.virtio.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lowmem.vmm.core.memory.ScatterList;
import dev.lowmem.vmm.core.testing.FuzzInput;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;

/**
 * A guest that writes whatever it likes into its split or packed ring, its indirect tables and
 * even the device's area, between the device's pops (docs/FUZZING.md, "ring walkers"). Whatever
 * it writes, a chain either walks, with every buffer inside guest memory, or comes back with a
 * typed {@link ChainError} and no buffers; a ring with no sound position stops with a
 * {@link QueueFault}; no method throws, and giving a chain back then popping again yields the same
 * chain.
 *
 * <p>Input: a config byte (bit 0 packed, bit 1 EVENT_IDX, bits 2-4 log2 of the queue size up to
 * 16, bit 5 a ring base from the next u32 instead of a fresh ring's), then operations until the
 * input ends: {@link Op} by a byte, with its fields.
 */
class RingWalkFuzzTest {
    /** Where the guest may write indirect tables here; it may point descriptors anywhere. */
    private static final long TABLES = VirtqueueRig.INDIRECT_BASE;
    private static final int TABLES_SIZE = 4096;
    private static final int MAX_SIZE_LOG2 = 4;

    private enum Op {
        WRITE_DESC_AREA, WRITE_DRIVER_AREA, WRITE_DEVICE_AREA, WRITE_TABLES, POP_AND_PUSH, POP_UNPOP_AND_POP_AGAIN,
        PUBLISH, ENABLE_NOTIFICATIONS, DISABLE_NOTIFICATIONS
    }

    /** A rig per layout, size and EVENT_IDX, made once: mapping 8 MiB per input would be most of the time. */
    private static final Map<Integer, VirtqueueRig> RIGS = new HashMap<>();

    @AfterAll
    static void closeRigs() {
        RIGS.values().forEach(VirtqueueRig::close);
        RIGS.clear();
    }

    @FuzzTest
    void everyChainWalksOrIsRefused(byte[] bytes) throws Exception {
        FuzzInput input = new FuzzInput(bytes);
        int config = input.u8();
        QueueLayout layout = (config & 1) != 0 ? QueueLayout.PACKED : QueueLayout.SPLIT;
        boolean eventIdx = (config & 2) != 0;
        int size = 1 << Math.min(config >>> 2 & 7, MAX_SIZE_LOG2);
        VirtqueueRig rig = rig(layout, size, eventIdx);
        RingAddresses rings = rig.config().rings();
        MemorySegment descArea = rig.bytes(rings.descArea(), layout.descAreaSize(size));
        MemorySegment driverArea = rig.bytes(rings.driverArea(), layout.driverAreaSize(size));
        MemorySegment deviceArea = rig.bytes(rings.deviceArea(), layout.deviceAreaSize(size));
        MemorySegment tables = rig.bytes(TABLES, TABLES_SIZE);
        for (MemorySegment area : new MemorySegment[] {descArea, driverArea, deviceArea, tables}) {
            area.fill((byte) 0);
        }
        int ringBase = (config & 0x20) != 0 ? input.u32()
                : layout == QueueLayout.PACKED ? PackedDeviceQueue.INITIAL_RING_BASE : 0;
        DeviceQueue device;
        try {
            device = rig.reopenDevice(ringBase);
        } catch (InvalidQueueException refused) {
            // The documented refusal of a ring base outside the queue (vhost-user's SET_VRING_BASE).
            return;
        }
        Walker walker = new Walker(rig, device);
        while (input.hasMore()) {
            switch (Op.values()[input.u8() % Op.values().length]) {
                case WRITE_DESC_AREA -> write(descArea, input);
                case WRITE_DRIVER_AREA -> write(driverArea, input);
                case WRITE_DEVICE_AREA -> write(deviceArea, input);
                case WRITE_TABLES -> write(tables, input);
                case POP_AND_PUSH -> walker.popAndPush(input.u8() % 2 == 0);
                case POP_UNPOP_AND_POP_AGAIN -> walker.popUnpopAndPopAgain();
                case PUBLISH -> {
                    device.publishUsed();
                    device.needsInterrupt();
                }
                case ENABLE_NOTIFICATIONS -> device.enableNotifications();
                case DISABLE_NOTIFICATIONS -> device.disableNotifications();
            }
        }
    }

    private static VirtqueueRig rig(QueueLayout layout, int size, boolean eventIdx) throws Exception {
        int key = layout.ordinal() << 20 | size << 1 | (eventIdx ? 1 : 0);
        VirtqueueRig rig = RIGS.get(key);
        if (rig == null) {
            rig = VirtqueueRig.open(layout, size, eventIdx);
            RIGS.put(key, rig);
        }
        return rig;
    }

    /** Writes up to 255 bytes from the input at an offset into {@code area}, as far as it reaches. */
    private static void write(MemorySegment area, FuzzInput input) {
        long offset = input.u16() % area.byteSize();
        byte[] data = input.bytes(input.u8());
        int length = (int) Math.min(data.length, area.byteSize() - offset);
        MemorySegment.copy(MemorySegment.ofArray(data), 0, area, offset, length);
    }

    /** The device side of one input: pops, and checks each chain. */
    private static final class Walker {
        private final DeviceQueue device;
        private final DescriptorChain chain;
        private final MemorySegment[] regions;

        Walker(VirtqueueRig rig, DeviceQueue device) {
            this.device = device;
            this.chain = device.newChain();
            this.regions = new MemorySegment[] {
                rig.bytes(0, VirtqueueRig.REGION_BOUNDARY),
                rig.bytes(VirtqueueRig.REGION_BOUNDARY, VirtqueueRig.MEMORY_END - VirtqueueRig.REGION_BOUNDARY)};
        }

        void popAndPush(boolean claimWritten) {
            if (pop()) {
                device.pushUsed(chain, claimWritten ? (int) chain.writableLength() : 0);
            }
        }

        void popUnpopAndPopAgain() {
            if (!pop()) {
                return;
            }
            String first = summary();
            device.unpop(chain);
            assertTrue(pop(), "a chain given back is there to pop again");
            assertEquals(first, summary(), "the chain popped again is the one given back");
            device.pushUsed(chain, 0);
        }

        private boolean pop() {
            boolean faulted = device.fault() != null;
            boolean popped = device.pop(chain);
            if (device.fault() != null) {
                assertFalse(popped, "a faulted queue hands out nothing");
                assertNotNull(device.describeFault());
                return false;
            }
            assertFalse(faulted, "a fault does not clear");
            if (popped) {
                check();
            }
            return popped;
        }

        private void check() {
            ScatterList buffers = chain.buffers();
            assertNotNull(chain.describeError());
            if (chain.error() != null) {
                assertEquals(0, buffers.count(), "a refused chain has no buffers to reach a port");
                assertEquals(0, chain.readableLength());
                return;
            }
            assertTrue(chain.head() >= 0 && chain.head() <= 0xFFFF, "a chain's id is a u16");
            assertTrue(buffers.count() <= DescriptorChain.MAX_PIECES);
            assertTrue(chain.firstWritablePiece() <= buffers.count());
            long total = 0;
            for (int piece = 0; piece < buffers.count(); piece++) {
                assertInsideGuestMemory(buffers.address(piece), buffers.length(piece));
                total += buffers.length(piece);
            }
            assertEquals(total, buffers.totalLength());
            assertEquals(total, chain.readableLength() + chain.writableLength());
        }

        private void assertInsideGuestMemory(long address, long length) {
            for (MemorySegment region : regions) {
                long start = region.address();
                if (address >= start && length <= region.byteSize() && address - start <= region.byteSize() - length) {
                    return;
                }
            }
            throw new AssertionError("a piece of 0x" + Long.toHexString(length) + " bytes at host address 0x"
                    + Long.toHexString(address) + " lies outside guest memory");
        }

        /** What a consumer of the chain sees of it. */
        private String summary() {
            StringBuilder summary = new StringBuilder().append(chain.head()).append(' ').append(chain.error())
                    .append(' ').append(chain.readableLength()).append('/').append(chain.writableLength());
            ScatterList buffers = chain.buffers();
            for (int piece = 0; piece < buffers.count(); piece++) {
                summary.append(' ').append(buffers.address(piece)).append('+').append(buffers.length(piece));
            }
            return summary.toString();
        }
    }
}
