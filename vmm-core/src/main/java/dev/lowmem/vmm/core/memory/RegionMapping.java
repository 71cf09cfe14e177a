package dev.lowmem.vmm.core.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One region of a memory table, mapped in a shared {@link Arena} of its own, so that it can outlive
 * the table it was mapped for: a table made from another by adding or removing one region holds the
 * other regions' mappings too, and a mapping is retired (its arena closed, its pages unmapped) when
 * the last table holding it is closed. The control plane makes and closes tables; counting holders
 * atomically keeps a table closed on another thread (a test's, an embedding VMM's) safe too.
 */
final class RegionMapping {
    private final Arena arena;
    private final MemorySegment bytes;
    private final long guestPhysAddr;
    private final long frontendVirtAddr;
    private final AtomicInteger holders = new AtomicInteger(1);

    /**
     * @param arena            the region's own arena; closing it retires {@code bytes}
     * @param bytes            the region's bytes, a slice of a mapping in {@code arena}
     * @param guestPhysAddr    where the region starts in guest-physical address space
     * @param frontendVirtAddr where it starts in the front-end's virtual address space
     */
    RegionMapping(Arena arena, MemorySegment bytes, long guestPhysAddr, long frontendVirtAddr) {
        this.arena = arena;
        this.bytes = bytes;
        this.guestPhysAddr = guestPhysAddr;
        this.frontendVirtAddr = frontendVirtAddr;
    }

    MemorySegment bytes() {
        return bytes;
    }

    long guestPhysAddr() {
        return guestPhysAddr;
    }

    long frontendVirtAddr() {
        return frontendVirtAddr;
    }

    /** One more table holds the mapping; only a table that holds it already may hand it on. */
    RegionMapping retain() {
        if (holders.getAndIncrement() <= 0) {
            throw new IllegalStateException("region at guest-physical 0x" + Long.toHexString(guestPhysAddr)
                    + " was retired already");
        }
        return this;
    }

    /** A table no longer holds the mapping; the last one to let go retires it. */
    void release() {
        if (holders.decrementAndGet() == 0) {
            arena.close();
        }
    }
}
