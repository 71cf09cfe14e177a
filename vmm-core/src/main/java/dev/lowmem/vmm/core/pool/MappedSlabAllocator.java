package dev.lowmem.vmm.core.pool;

import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.LibC;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** {@link SlabAllocator#anonymousMappings()}: one mmap'd slab per shared arena. */
final class MappedSlabAllocator implements SlabAllocator {
    private static final System.Logger LOG = System.getLogger(MappedSlabAllocator.class.getName());

    /** The arena of each live slab, so {@link #free} can close it; by the segment this class returned. */
    private final Map<MemorySegment, Arena> arenas = new ConcurrentHashMap<>();

    @Override
    public MemorySegment allocate(long bytes) {
        long address = LibC.mmap(0, bytes, LibC.PROT_READ | LibC.PROT_WRITE,
                LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_POPULATE, -1, 0);
        if (address == LibC.MAP_FAILED) {
            throw new OutOfMemoryError("mmap of a " + bytes + "-byte packet slab failed: " + Errno.name(Errno.last()));
        }
        Arena arena = Arena.ofShared();
        MemorySegment slab = MemorySegment.ofAddress(address).reinterpret(bytes, arena, unused -> unmap(address, bytes));
        arenas.put(slab, arena);
        return slab;
    }

    @Override
    public void free(MemorySegment slab) {
        Arena arena = arenas.remove(slab);
        if (arena == null) {
            throw new IllegalArgumentException(slab + " is not a live slab of this allocator");
        }
        arena.close();
    }

    /** Runs as the arena closes, where there is no caller to throw to: a failure is logged. */
    private static void unmap(long address, long bytes) {
        if (LibC.munmap(address, bytes) < 0) {
            LOG.log(System.Logger.Level.ERROR, "munmap of the packet slab at 0x" + Long.toHexString(address)
                    + " (" + bytes + " bytes) failed: " + Errno.name(Errno.last()));
        }
    }
}
