package dev.lowmem.vmm.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Guest memory an embedding VMM mapped itself: translated like a mapped table, and left the VMM's on close. */
class VmmMappedMemoryTest {
    private static final long HIGH_GPA = 0x1_0000_0000L;

    @Test
    void guestPhysicalAddressesLandOnTheVmmsBytes() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment low = arena.allocate(4096, 4096);
            MemorySegment high = arena.allocate(8192, 4096);
            high.set(ValueLayout.JAVA_BYTE, 100, (byte) 42);
            try (GuestMemory memory = GuestMemory.of(List.of(new MappedRegion(0, low), new MappedRegion(HIGH_GPA, high)))) {
                MemorySegment slice = mapped(memory.translate(HIGH_GPA + 100, 1));
                assertEquals(42, slice.get(ValueLayout.JAVA_BYTE, 0));
                assertEquals(high.address() + 100, slice.address());
                assertEquals(HIGH_GPA + 100, memory.guestPhysAddrOf(high.address() + 100));
                assertEquals(HIGH_GPA, mapped(memory.translateFrontend(HIGH_GPA, 8192)).address() - high.address()
                        + HIGH_GPA);
                assertInstanceOf(Translation.Fault.class, memory.translate(4096, 1));
            }
        }
    }

    @Test
    void closingTheTableRetiresItsViewsAndLeavesTheMemory() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = arena.allocate(4096, 4096);
            GuestMemory memory = GuestMemory.of(List.of(new MappedRegion(0, ram)));
            MemorySegment view = mapped(memory.translate(0, 16));
            memory.close();
            assertThrows(IllegalStateException.class, () -> view.get(ValueLayout.JAVA_BYTE, 0));
            ram.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
            assertEquals(1, ram.get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void overlappingOrEmptyOrHeapRegionsAreRefused() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = arena.allocate(8192, 4096);
            assertThrows(InvalidMemoryTableException.class, () -> GuestMemory.of(List.of(
                    new MappedRegion(0, ram), new MappedRegion(4096, ram))));
            assertThrows(InvalidMemoryTableException.class, () -> GuestMemory.of(List.of(
                    new MappedRegion(0, ram.asSlice(0, 0)))));
            assertThrows(IllegalArgumentException.class, () -> new MappedRegion(0, MemorySegment.ofArray(new byte[16])));
        }
    }

    private static MemorySegment mapped(Translation translation) {
        return assertInstanceOf(Translation.Mapped.class, translation).segment();
    }
}
