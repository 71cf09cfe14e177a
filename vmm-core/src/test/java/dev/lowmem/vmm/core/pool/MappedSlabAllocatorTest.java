package dev.lowmem.vmm.core.pool;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MappedSlabAllocatorTest {
    private static final long MIB = 1 << 20;

    private final SlabAllocator allocator = SlabAllocator.anonymousMappings();

    @Test
    void aSlabIsPageAlignedZeroedAndWritable() {
        MemorySegment slab = allocator.allocate(MIB);
        try {
            assertEquals(MIB, slab.byteSize());
            assertEquals(0, slab.address() % 4096);
            assertEquals(-1, slab.mismatch(MemorySegment.ofArray(new byte[(int) MIB])), "all zero");
            slab.set(ValueLayout.JAVA_LONG, MIB - 8, 0x1122334455667788L);
            assertEquals(0x1122334455667788L, slab.get(ValueLayout.JAVA_LONG, MIB - 8));
        } finally {
            allocator.free(slab);
        }
    }

    /** What malloc, behind Arena.allocate, does not do: it keeps freed megabytes for itself. */
    @Test
    void freeingASlabGivesItsPagesBackToTheSystemAtOnce() throws IOException {
        long before = residentBytes();
        MemorySegment slab = allocator.allocate(32 * MIB);
        long held = residentBytes();
        allocator.free(slab);
        long after = residentBytes();

        assertTrue(held - before >= 24 * MIB, "populated at allocation: " + (held - before) + " bytes more resident");
        assertTrue(held - after >= 24 * MIB, "unmapped at free: " + (held - after) + " bytes fewer resident");
    }

    @Test
    void aFreedSlabThrowsInsteadOfTouchingUnmappedMemory() {
        MemorySegment slab = allocator.allocate(MIB);
        allocator.free(slab);

        assertThrows(IllegalStateException.class, () -> slab.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void memoryTheSystemRefusesIsAnOutOfMemoryErrorNamingTheErrno() {
        // More than the 128 TiB of a process's address space on x86_64.
        OutOfMemoryError refused = assertThrows(OutOfMemoryError.class, () -> allocator.allocate(1L << 50));

        assertTrue(refused.getMessage().contains("ENOMEM"), refused.getMessage());
    }

    @Test
    void aSegmentItDidNotAllocateIsNotFreed() {
        assertThrows(IllegalArgumentException.class, () -> allocator.free(MemorySegment.ofArray(new byte[64])));
    }

    private static long residentBytes() throws IOException {
        // statm: size resident shared text lib data dt, in pages.
        String[] pages = Files.readString(Path.of("/proc/self/statm")).trim().split(" ");
        return Long.parseLong(pages[1]) * 4096;
    }
}
