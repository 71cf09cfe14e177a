package dev.lowmem.vmm.core.pool;

import java.lang.foreign.MemorySegment;

/**
 * Where a {@link PacketPool} gets its slabs and gives them back. A seam so tests can refuse
 * memory on cue and watch every slab come back; production uses {@link #anonymousMappings()}.
 *
 * <p>The pool calls both methods off the datapath (a join, a refill round, the release of an
 * idle pool), one call at a time.
 */
@FunctionalInterface
public interface SlabAllocator {
    /**
     * A slab of at least {@code bytes} bytes, aligned to 64 bytes, alive until {@link #free}.
     *
     * @throws OutOfMemoryError when the memory cannot be had now: the pool counts it as a native
     *                          failure and tries again on a later refill
     */
    MemorySegment allocate(long bytes);

    /**
     * Gives {@code slab}, a segment {@link #allocate} returned, back. The default does nothing,
     * for an allocator that hands out memory something else frees (a test's arena).
     */
    default void free(MemorySegment slab) {
    }

    /**
     * Private anonymous mappings, one per slab, each bound to its own shared arena: freeing a
     * slab unmaps it, so its pages go back to the kernel at once (malloc, behind
     * {@code Arena.allocate}, keeps freed megabytes in its heap), and a buffer used after its
     * slab was freed throws instead of touching unmapped memory. The pages are populated at
     * allocation, on the refiller's thread, so a worker never takes their first-touch faults.
     */
    static SlabAllocator anonymousMappings() {
        return new MappedSlabAllocator();
    }
}
