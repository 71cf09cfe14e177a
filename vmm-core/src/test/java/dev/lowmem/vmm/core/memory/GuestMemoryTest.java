package dev.lowmem.vmm.core.memory;

import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One memfd of 2 MiB split into two guest regions the way QEMU splits RAM around a hole: the
 * second region lives at mmap offset 1 MiB of the same file.
 */
class GuestMemoryTest {
    private static final long MIB = 1 << 20;
    private static final long LOW_GPA = 0;
    private static final long HIGH_GPA = 0x1_0000_0000L;
    private static final long LOW_UVA = 0x7f00_0000_0000L;
    private static final long HIGH_UVA = 0x7f80_0000_0000L;

    private FileDescriptor memfd;
    private GuestMemory memory;
    /** The whole file mapped on its own, to check which bytes a translation lands on. */
    private GuestMemory file;

    @BeforeEach
    void mapTwoRegions() throws Exception {
        memfd = Memfd.create("guest-memory-test", 2 * MIB);
        memory = GuestMemory.map(List.of(
                new GuestRegion(LOW_GPA, MIB, LOW_UVA, 0, memfd),
                new GuestRegion(HIGH_GPA, MIB, HIGH_UVA, MIB, memfd)));
        file = GuestMemory.map(List.of(new GuestRegion(0, 2 * MIB, 0, 0, memfd)));
    }

    @AfterEach
    void unmap() {
        memory.close();
        file.close();
        memfd.close();
    }

    @Test
    void aRangeEndingExactlyAtTheRegionEndTranslates() {
        assertEquals(MIB, mapped(memory.translate(LOW_GPA, MIB)).byteSize());
        assertEquals(1, mapped(memory.translate(LOW_GPA + MIB - 1, 1)).byteSize());
        assertEquals(MIB, mapped(memory.translate(HIGH_GPA, MIB)).byteSize());
    }

    @Test
    void aZeroLengthRangeInsideARegionTranslates() {
        assertEquals(0, mapped(memory.translate(LOW_GPA + 100, 0)).byteSize());
    }

    @Test
    void oneByteTooManyCrossesTheRegionEnd() {
        assertFault(AddressFault.CROSSES_REGION_END, memory.translate(LOW_GPA + MIB - 1, 2));
        assertFault(AddressFault.CROSSES_REGION_END, memory.translate(HIGH_GPA, MIB + 1));
    }

    @Test
    void aRangeSpanningTwoAdjacentRegionsIsNotOneSlice() throws Exception {
        try (GuestMemory adjacent = GuestMemory.map(List.of(
                new GuestRegion(0, MIB, LOW_UVA, 0, memfd),
                new GuestRegion(MIB, MIB, HIGH_UVA, MIB, memfd)))) {
            assertFault(AddressFault.CROSSES_REGION_END, adjacent.translate(MIB - 8, 16));
            assertEquals(8, mapped(adjacent.translate(MIB - 8, 8)).byteSize());
            assertEquals(8, mapped(adjacent.translate(MIB, 8)).byteSize());
        }
    }

    @Test
    void addressesInNoRegionAreOutsideMemory() {
        assertFault(AddressFault.OUTSIDE_MEMORY, memory.translate(LOW_GPA + MIB, 1));
        assertFault(AddressFault.OUTSIDE_MEMORY, memory.translate(HIGH_GPA - 1, 1));
        assertFault(AddressFault.OUTSIDE_MEMORY, memory.translate(HIGH_GPA + MIB, 0));
        assertFault(AddressFault.OUTSIDE_MEMORY, memory.translate(0xffff_0000_0000_0000L, 4));
    }

    @Test
    void addressPlusLengthWrappingPast64BitsOverflows() {
        assertFault(AddressFault.ADDRESS_OVERFLOW, memory.translate(0xffff_ffff_ffff_fff0L, 0x20));
        assertFault(AddressFault.ADDRESS_OVERFLOW, memory.translate(LOW_GPA + 16, -1L));
        assertFault(AddressFault.ADDRESS_OVERFLOW, memory.translateFrontend(LOW_UVA + 16, -16L));
    }

    @Test
    void aFaultSaysWhatWasAskedAndWhy() {
        Translation.Fault fault = (Translation.Fault) memory.translate(0x7f0000, 4096);
        assertEquals("0x7f0000+4096 is outside guest memory", fault.message());
    }

    @Test
    void theMmapOffsetSelectsTheRegionsBytesInTheFile() {
        mapped(memory.translate(HIGH_GPA + 64, 8)).set(ValueLayout.JAVA_LONG, 0, 0x0123_4567_89ab_cdefL);
        MemorySegment wholeFile = mapped(file.translate(0, 2 * MIB));
        assertEquals(0x0123_4567_89ab_cdefL, wholeFile.get(ValueLayout.JAVA_LONG, MIB + 64));
        assertEquals(0, wholeFile.get(ValueLayout.JAVA_LONG, 64), "the low region is untouched");
    }

    @Test
    void frontendVirtualAddressesReachTheSameBytes() {
        mapped(memory.translate(HIGH_GPA + 256, 4)).set(ValueLayout.JAVA_INT, 0, 77);
        assertEquals(77, mapped(memory.translateFrontend(HIGH_UVA + 256, 4)).get(ValueLayout.JAVA_INT, 0));
        assertFault(AddressFault.CROSSES_REGION_END, memory.translateFrontend(LOW_UVA + MIB - 2, 4));
        assertFault(AddressFault.OUTSIDE_MEMORY, memory.translateFrontend(HIGH_GPA, 4));
    }

    @Test
    void anUnalignedMmapOffsetStillLandsOnItsByte() throws Exception {
        try (GuestMemory shifted = GuestMemory.map(List.of(new GuestRegion(0, 4096, 0, MIB + 40, memfd)))) {
            mapped(shifted.translate(0, 8)).set(ValueLayout.JAVA_LONG, 0, -2L);
            assertEquals(-2L, mapped(file.translate(MIB + 40, 8)).get(ValueLayout.JAVA_LONG, 0));
        }
    }

    @Test
    void aRegionLargerThan2GiBIsAddressedThroughout() throws Exception {
        long size = 3L << 30;
        long gpa = 0x1_0000_0000L;
        long far = (5L << 29) + 24; // 2.5 GiB in, past any int index
        try (FileDescriptor big = Memfd.create("big-region", size);
             GuestMemory large = GuestMemory.map(List.of(new GuestRegion(gpa, size, LOW_UVA, 0, big)))) {
            MemorySegment whole = mapped(large.translate(gpa, size));
            assertEquals(size, whole.byteSize());
            whole.set(ValueLayout.JAVA_LONG, far, 0xfeedL);
            assertEquals(0xfeedL, mapped(large.translateFrontend(LOW_UVA + far, 8)).get(ValueLayout.JAVA_LONG, 0));
            assertEquals(8, mapped(large.translate(gpa + size - 8, 8)).byteSize());
            assertFault(AddressFault.CROSSES_REGION_END, large.translate(gpa + size - 8, 9));
        }
    }

    @Test
    void overlappingRegionsAreRefused() {
        InvalidMemoryTableException e = assertThrows(InvalidMemoryTableException.class, () -> GuestMemory.map(List.of(
                new GuestRegion(0, MIB, LOW_UVA, 0, memfd),
                new GuestRegion(MIB / 2, MIB, HIGH_UVA, MIB, memfd))));
        assertEquals("region 1: guest physical 0x80000+1048576 overlaps region 0", e.getMessage());

        e = assertThrows(InvalidMemoryTableException.class, () -> GuestMemory.map(List.of(
                new GuestRegion(0, MIB, LOW_UVA, 0, memfd),
                new GuestRegion(HIGH_GPA, MIB, LOW_UVA + 4096, MIB, memfd))));
        assertTrue(e.getMessage().contains("frontend virtual"), e.getMessage());
    }

    @Test
    void aRegionRunningPastItsFileIsRefusedBeforeMapping() {
        InvalidMemoryTableException e = assertThrows(InvalidMemoryTableException.class, () -> GuestMemory.map(List.of(
                new GuestRegion(0, 2 * MIB, LOW_UVA, MIB, memfd))));
        assertTrue(e.getMessage().startsWith("region 0: mmap offset 0x100000 + size 0x200000 runs past the end"),
                e.getMessage());
    }

    @Test
    void emptyAndWrappingRegionsAreRefused() {
        assertThrows(InvalidMemoryTableException.class,
                () -> GuestMemory.map(List.of(new GuestRegion(0, 0, LOW_UVA, 0, memfd))));
        assertThrows(InvalidMemoryTableException.class,
                () -> GuestMemory.map(List.of(new GuestRegion(-4096, MIB, LOW_UVA, 0, memfd))));
        assertThrows(InvalidMemoryTableException.class,
                () -> GuestMemory.map(List.of(new GuestRegion(0, MIB, 0, -4096, memfd))));
    }

    @Test
    void anEmptyTableHasNoMemory() throws Exception {
        try (GuestMemory empty = GuestMemory.map(List.of())) {
            assertFault(AddressFault.OUTSIDE_MEMORY, empty.translate(0, 1));
        }
    }

    private static MemorySegment mapped(Translation translation) {
        return assertInstanceOf(Translation.Mapped.class, translation).segment();
    }

    private static void assertFault(AddressFault expected, Translation translation) {
        assertEquals(expected, assertInstanceOf(Translation.Fault.class, translation).reason());
    }
}
