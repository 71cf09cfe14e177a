package dev.lowmem.vmm.core.memory;

import java.lang.foreign.MemorySegment;

/**
 * One region of guest memory that an embedding VMM has mapped itself (anonymous memory, a memfd,
 * hugetlbfs, an {@link java.lang.foreign.Arena} allocation): where it sits in guest-physical
 * address space and its bytes. The segment must be native, for the datapath hands raw addresses
 * of guest buffers to {@code readv} and {@code writev}.
 */
public record MappedRegion(long guestPhysAddr, MemorySegment bytes) {
    public MappedRegion {
        if (!bytes.isNative()) {
            throw new IllegalArgumentException("guest memory at 0x" + Long.toHexString(guestPhysAddr)
                    + " is a heap segment; the datapath needs native memory");
        }
    }
}
