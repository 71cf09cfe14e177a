package dev.lowmem.vmm.core.memory;

import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.testing.ProcSelf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A table made from another by adding or removing one region maps or unmaps that region alone and
 * shares the others' mappings: each region here is a memfd of its own, counted in
 * /proc/self/maps, and read through slices taken from tables closed since.
 */
class GuestMemorySharingTest {
    private static final String NAME = "sharing-test";
    private static final long SIZE = 64 * 1024;
    private static final long STRIDE = 1 << 20;
    private static final long UVA_BASE = 0x7e00_0000_0000L;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;

    private final List<FileDescriptor> files = new ArrayList<>();

    @BeforeEach
    void createFiles() throws Exception {
        for (int i = 0; i < 4; i++) {
            FileDescriptor memfd = Memfd.create(NAME, SIZE);
            files.add(memfd);
        }
    }

    @AfterEach
    void closeFiles() {
        files.forEach(FileDescriptor::close);
    }

    private GuestRegion region(int index) {
        return new GuestRegion(index * STRIDE, SIZE, UVA_BASE + index * STRIDE, 0, files.get(index));
    }

    private static MemorySegment bytes(GuestMemory memory, int index) {
        return assertInstanceOf(Translation.Mapped.class, memory.translate(index * STRIDE, SIZE)).segment();
    }

    @Test
    void addingARegionMapsItAloneAndTheOlderTablesRegionsLiveOnInTheNewOne() throws Exception {
        GuestMemory first = GuestMemory.map(List.of(region(0), region(1)));
        MemorySegment regionZero = bytes(first, 0);
        regionZero.set(LONG, 0, 0xA0L);
        assertEquals(2, ProcSelf.mappingsOf(NAME));

        GuestMemory second = first.withRegion(region(2));
        assertEquals(3, ProcSelf.mappingsOf(NAME), "one mapping more, while both tables are open");
        assertEquals(regionZero.address(), bytes(second, 0).address(), "region 0 is the same mapping");
        assertEquals(3, second.regionCount());
        assertEquals(2 * STRIDE + 8, second.guestPhysAddrOf(bytes(second, 2).address() + 8));
        assertInstanceOf(Translation.Mapped.class, second.translateFrontend(UVA_BASE + 2 * STRIDE, SIZE));

        first.close();
        assertEquals(3, ProcSelf.mappingsOf(NAME), "retiring the old table unmapped nothing the new one holds");
        assertEquals(0xA0L, regionZero.get(LONG, 0), "a slice of the old table still reads: the region is still mapped");

        second.close();
        assertEquals(0, ProcSelf.mappingsOf(NAME));
        assertThrows(IllegalStateException.class, () -> regionZero.get(LONG, 0), "retired with the last table holding it");
    }

    @Test
    void removingARegionUnmapsItWhenTheOldTableRetiresAndNothingElse() throws Exception {
        GuestMemory first = GuestMemory.map(List.of(region(0), region(1), region(2)));
        MemorySegment regionOne = bytes(first, 1);
        MemorySegment regionTwo = bytes(first, 2);
        regionTwo.set(LONG, 0, 0xB2L);

        GuestMemory second = first.withoutRegion(1);
        assertEquals(2, second.regionCount());
        assertInstanceOf(Translation.Fault.class, second.translate(STRIDE, 8), "region 1 is gone from the new table");
        assertEquals(0xB2L, bytes(second, 2).get(LONG, 0), "region 2, now second in table order, translates");
        assertEquals(3, ProcSelf.mappingsOf(NAME), "nothing is unmapped while the old table may be read");

        first.close();
        assertEquals(2, ProcSelf.mappingsOf(NAME), "region 1 alone was unmapped");
        assertThrows(IllegalStateException.class, () -> regionOne.get(LONG, 0));
        assertEquals(0xB2L, regionTwo.get(LONG, 0));

        GuestMemory between = second.withRegion(region(3));
        GuestMemory third = between.withoutRegion(0);
        second.close();
        between.close();
        assertEquals(2, ProcSelf.mappingsOf(NAME), "regions 2 and 3, which the third table holds");
        assertEquals(0xB2L, bytes(third, 2).get(LONG, 0));
        assertInstanceOf(Translation.Fault.class, third.translate(0, 8));
        third.close();
        assertEquals(0, ProcSelf.mappingsOf(NAME));
    }

    @Test
    void aRegionThatOverlapsIsRefusedAndNothingIsMapped() throws Exception {
        try (GuestMemory memory = GuestMemory.map(List.of(region(0)))) {
            GuestRegion overlapping = new GuestRegion(SIZE / 2, SIZE, UVA_BASE + 3 * STRIDE, 0, files.get(3));
            assertThrows(InvalidMemoryTableException.class, () -> memory.withRegion(overlapping));
            GuestRegion pastItsFile = new GuestRegion(3 * STRIDE, SIZE, UVA_BASE + 3 * STRIDE, 4096, files.get(3));
            assertThrows(InvalidMemoryTableException.class, () -> memory.withRegion(pastItsFile));
            assertEquals(1, ProcSelf.mappingsOf(NAME));
        }
    }
}
