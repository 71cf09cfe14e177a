package dev.lowmem.vmm.core.pool;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The production allocator seen from the test's side: it records every slab handed out and
 * given back, and refuses memory (as the system would, with an {@link OutOfMemoryError}) while
 * {@link #refusing} is set.
 */
final class RecordingAllocator implements SlabAllocator {
    private final SlabAllocator system = SlabAllocator.anonymousMappings();
    final List<MemorySegment> allocated = new CopyOnWriteArrayList<>();
    final List<MemorySegment> freed = new CopyOnWriteArrayList<>();
    volatile boolean refusing;

    @Override
    public MemorySegment allocate(long bytes) {
        if (refusing) {
            throw new OutOfMemoryError("the test refuses " + bytes + " bytes");
        }
        MemorySegment slab = system.allocate(bytes);
        allocated.add(slab);
        return slab;
    }

    @Override
    public void free(MemorySegment slab) {
        freed.add(slab);
        system.free(slab);
    }

    /** Slabs allocated and not yet freed. */
    int live() {
        return allocated.size() - freed.size();
    }
}
