package dev.lowmem.virtio.queue;

import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.memory.ScatterList;

import java.lang.foreign.MemorySegment;

/**
 * Where the indirect descriptor table of the chain being walked lies: re-pointed at each indirect
 * descriptor, so walking one allocates nothing. A table must lie within one memory region; its
 * entries are then read at {@code base() + 16 * i} of {@code region()}.
 */
final class IndirectTable {
    /** A split ring's virtq_desc and a packed ring's pvirtq_desc are both 16 bytes. */
    static final int ENTRY_SIZE = 16;

    private final ScatterList place = new ScatterList(1);
    private MemorySegment region;
    private long base;
    private int entries;

    /**
     * The most entries a table may have. Not the queue size: Linux posts an skb's fragments in one
     * table whatever the queue size, and QEMU takes such tables; but no more than a chain may hold.
     */
    static final int MAX_ENTRIES = DescriptorChain.MAX_PIECES;

    /** Points at the table {@code [address, address+length)}; null when it is usable, else why not. */
    ChainError locate(GuestMemory memory, long address, long length) {
        if (length == 0 || length % ENTRY_SIZE != 0 || length / ENTRY_SIZE > MAX_ENTRIES) {
            return ChainError.INDIRECT_LENGTH_INVALID;
        }
        place.clear();
        if (memory.gather(address, length, place) != null) {
            return ChainError.INDIRECT_TABLE_OUTSIDE_MEMORY;
        }
        region = place.region(0);
        base = place.offset(0);
        entries = (int) (length / ENTRY_SIZE);
        place.clear();
        return null;
    }

    MemorySegment region() {
        return region;
    }

    long base() {
        return base;
    }

    int entries() {
        return entries;
    }
}
