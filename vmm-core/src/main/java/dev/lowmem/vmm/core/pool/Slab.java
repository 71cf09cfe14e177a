package dev.lowmem.vmm.core.pool;

import java.lang.foreign.MemorySegment;

/**
 * One allocation from the {@link SlabAllocator}, cut into equal buffers. The buffers' objects
 * are made here, once, and live as long as the slab: taking and releasing a buffer reuses them.
 */
final class Slab {
    private final MemorySegment memory;
    private final PacketBuffer[] buffers;

    Slab(MemorySegment memory, int bufferSize, int bufferCount) {
        long needed = (long) bufferSize * bufferCount;
        if (memory.byteSize() < needed) {
            throw new IllegalArgumentException("slab of " + memory.byteSize() + " bytes cannot hold " + bufferCount
                    + " buffers of " + bufferSize);
        }
        this.memory = memory;
        this.buffers = new PacketBuffer[bufferCount];
        for (int i = 0; i < bufferCount; i++) {
            buffers[i] = new PacketBuffer(memory.asSlice((long) i * bufferSize, bufferSize), this);
        }
    }

    MemorySegment memory() {
        return memory;
    }

    /** The slab's buffers, in address order; the array is the slab's own. */
    PacketBuffer[] buffers() {
        return buffers;
    }
}
