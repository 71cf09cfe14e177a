package dev.lowmem.vmm.core.memory;

import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.FileStatus;
import dev.lowmem.vmm.core.testing.ProcSelf;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regions in hugetlbfs memory, as DPDK's virtio-user and QEMU with huge pages send them: a
 * mapping must start at a huge-page-aligned file offset, whatever the region's mmap offset.
 * Needs 4 free 2 MiB huge pages; {@code .ci/run} reserves them.
 */
class HugePageMemoryTest {
    private static final long HUGE_PAGE = 2 << 20;
    private static final long FILE_SIZE = 4 * HUGE_PAGE;
    private static final String NAME = "huge-guest";

    @BeforeAll
    static void hugePagesAreReserved() throws Exception {
        long free = Files.readAllLines(Path.of("/proc/meminfo")).stream()
                .filter(line -> line.startsWith("HugePages_Free:"))
                .mapToLong(line -> Long.parseLong(line.replaceAll("\\D", "")))
                .findFirst().orElse(0);
        assertTrue(free >= FILE_SIZE / HUGE_PAGE, "need 4 free huge pages, have " + free
                + ": echo 8 > /proc/sys/vm/nr_hugepages (as root; tools/bin/test does this)");
    }

    @Test
    void aRegionAtAnUnalignedOffsetOfAHugePageFileMapsFromTheAlignedPage() throws Exception {
        long offset = HUGE_PAGE + 4096; // a 4 KiB-aligned offset that no huge page mapping may start at
        try (FileDescriptor hugeFile = Memfd.createHugePages(NAME, FILE_SIZE);
             GuestMemory whole = GuestMemory.map(List.of(new GuestRegion(0, FILE_SIZE, 0, 0, hugeFile)))) {
            assertEquals(HUGE_PAGE, FileStatus.of(hugeFile).blockSize());
            GuestMemory region = GuestMemory.map(List.of(new GuestRegion(0x4000_0000L, HUGE_PAGE, 0, offset, hugeFile)));
            assertEquals(2, ProcSelf.mappingsOf(NAME));

            mapped(region.translate(0x4000_0000L + 8, 8)).set(ValueLayout.JAVA_LONG, 0, 0x1234_5678L);
            assertEquals(0x1234_5678L, mapped(whole.translate(offset + 8, 8)).get(ValueLayout.JAVA_LONG, 0));
            assertEquals(HUGE_PAGE, mapped(region.translate(0x4000_0000L, HUGE_PAGE)).byteSize());

            region.close();
            assertEquals(1, ProcSelf.mappingsOf(NAME), "the region's mapping, two huge pages long, is gone");
        }
        assertEquals(0, ProcSelf.mappingsOf(NAME));
    }

    private static MemorySegment mapped(Translation translation) {
        return assertInstanceOf(Translation.Mapped.class, translation).segment();
    }
}
