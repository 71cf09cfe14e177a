package dev.lowmem.vmm.core.memory;

import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gathering guest ranges into a {@link ScatterList}: guest memory is two adjacent regions (0 to 1
 * MiB and 1 to 2 MiB, mapped from the two halves of one memfd) and, after a hole, a third at 4 MiB.
 */
class ScatterListTest {
    private static final long MIB = 1 << 20;

    private FileDescriptor memfd;
    private GuestMemory memory;
    private final ScatterList list = new ScatterList(4);

    @BeforeEach
    void mapRegions() throws Exception {
        memfd = Memfd.create("scatter-list-test", 3 * MIB);
        memory = GuestMemory.map(List.of(
                new GuestRegion(MIB, MIB, 0x20_0000_0000L, MIB, memfd),
                new GuestRegion(0, MIB, 0x10_0000_0000L, 0, memfd),
                new GuestRegion(4 * MIB, MIB, 0x30_0000_0000L, 2 * MIB, memfd)));
        numberEveryWordByItsFileOffset();
    }

    private void numberEveryWordByItsFileOffset() throws Exception {
        try (GuestMemory file = GuestMemory.map(List.of(new GuestRegion(0, 3 * MIB, 0, 0, memfd)))) {
            if (!(file.translate(0, 3 * MIB) instanceof Translation.Mapped(MemorySegment bytes))) {
                throw new AssertionError("the whole file does not translate");
            }
            for (long i = 0; i < 3 * MIB; i += 4) {
                bytes.set(ValueLayout.JAVA_INT_UNALIGNED, i, (int) i);
            }
        }
    }

    @AfterEach
    void unmap() {
        memory.close();
        memfd.close();
    }

    @Test
    void aRangeInsideOneRegionIsOnePiece() {
        assertNull(memory.gather(0x1000, 64, list));
        assertEquals(1, list.count());
        assertEquals(64, list.length(0));
        assertEquals(0x1000, list.slice(0).get(ValueLayout.JAVA_INT_UNALIGNED, 0));
    }

    @Test
    void aRangeAcrossAdjacentRegionsIsSplitAtTheBoundary() {
        assertNull(memory.gather(MIB - 8, 24, list));
        assertEquals(2, list.count());
        assertEquals(8, list.length(0));
        assertEquals(16, list.length(1));
        assertEquals(24, list.totalLength());

        MemorySegment copy = Arena.ofAuto().allocate(24);
        assertEquals(24, list.copyTo(0, 0, copy));
        assertEquals((int) (MIB - 8), copy.get(ValueLayout.JAVA_INT_UNALIGNED, 0));
        assertEquals((int) MIB, copy.get(ValueLayout.JAVA_INT_UNALIGNED, 8));
    }

    @Test
    void piecesOfOtherListsLineUpEndToEnd() {
        ScatterList first = new ScatterList(2);
        ScatterList second = new ScatterList(2);
        assertNull(memory.gather(MIB - 8, 24, first));
        assertNull(memory.gather(4 * MIB, 16, second));

        assertTrue(list.addPieceOf(first, 1));
        assertTrue(list.addPieceOf(second, 0));
        assertTrue(list.addPieceOf(first, 0));
        assertEquals(40, list.totalLength());
        assertEquals(first.address(1), list.address(0));
        assertEquals(second.address(0), list.address(1));
        assertTrue(list.addPieceOf(first, 1));
        assertFalse(list.addPieceOf(first, 1), "a full list takes no more");
        assertEquals(56, list.totalLength());
        assertThrows(IndexOutOfBoundsException.class, () -> list.addPieceOf(second, 1));
    }

    @Test
    void aRangeRunningIntoAHoleIsRefusedAndLeavesTheListAsItWas() {
        assertNull(memory.gather(0, 16, list));
        assertEquals(AddressFault.CROSSES_REGION_END, memory.gather(2 * MIB - 8, 16, list));
        assertEquals(AddressFault.OUTSIDE_MEMORY, memory.gather(3 * MIB, 16, list));
        assertEquals(AddressFault.ADDRESS_OVERFLOW, memory.gather(-8, 16, list));
        assertEquals(1, list.count());
        assertEquals(16, list.totalLength());
    }

    @Test
    void aFullListRefusesTheRangeWhole() {
        assertNull(memory.gather(0, 8, list));
        assertNull(memory.gather(16, 8, list));
        assertNull(memory.gather(32, 8, list));
        assertEquals(AddressFault.TOO_MANY_PIECES, memory.gather(MIB - 8, 16, list));
        assertEquals(3, list.count());
    }

    @Test
    void anEmptyRangeAppendsNothing() {
        assertNull(memory.gather(0x1000, 0, list));
        assertEquals(0, list.count());
    }

    @Test
    void copiesSkipIntoLaterPiecesAndStopWhereThePiecesEnd() {
        assertNull(memory.gather(MIB - 8, 16, list));
        assertNull(memory.gather(4 * MIB, 8, list));
        MemorySegment bytes = Arena.ofAuto().allocate(12);
        bytes.fill((byte) 0x5a);

        assertEquals(12, list.copyFrom(bytes, 0, 12));
        MemorySegment back = Arena.ofAuto().allocate(12);
        assertEquals(12, list.copyTo(0, 12, back));
        assertArrayEquals(bytes.toArray(ValueLayout.JAVA_BYTE), back.toArray(ValueLayout.JAVA_BYTE));

        assertEquals(4, list.copyTo(1, 12, back), "only 4 bytes follow position 12 of the pieces from piece 1 on");
    }

    @Test
    void copiesToAndFromThePartOfASegmentAtAnOffset() {
        assertNull(memory.gather(MIB - 8, 16, list));
        assertNull(memory.gather(4 * MIB, 8, list));
        MemorySegment outside = Arena.ofAuto().allocate(40);
        for (int i = 0; i < 40; i++) {
            outside.set(ValueLayout.JAVA_BYTE, i, (byte) i);
        }

        assertEquals(20, list.copyFrom(outside, 10, 20, 0, 2), "bytes 10..29 to position 2, across both pieces");
        MemorySegment back = Arena.ofAuto().allocate(40);
        assertEquals(20, list.copyTo(0, 2, back, 5, 20));
        assertArrayEquals(outside.asSlice(10, 20).toArray(ValueLayout.JAVA_BYTE), back.asSlice(5, 20).toArray(ValueLayout.JAVA_BYTE));
        assertEquals(0, back.get(ValueLayout.JAVA_BYTE, 4), "nothing written before the offset");
        assertEquals(0, back.get(ValueLayout.JAVA_BYTE, 25), "nor past the length");

        assertEquals(2, list.copyTo(0, 22, back, 0, 40), "the pieces end 2 bytes after position 22");
    }

    @Test
    void copiesFromOneListIntoAnotherAcrossPieceBoundariesOfBoth() {
        assertNull(memory.gather(MIB - 8, 16, list));
        MemorySegment[] outside = {Arena.ofAuto().allocate(5), Arena.ofAuto().allocate(3), Arena.ofAuto().allocate(30)};
        ScatterList destination = new ScatterList(3);
        for (MemorySegment piece : outside) {
            assertTrue(destination.add(piece));
        }

        assertEquals(13, list.copyTo(3, destination, 2, 13), "bytes 3..15 of 8+8 to 2..14 of 5+3+30");
        MemorySegment expected = Arena.ofAuto().allocate(16);
        list.copyTo(0, 0, expected);
        MemorySegment copied = Arena.ofAuto().allocate(38);
        for (int i = 0, at = 0; i < outside.length; at += (int) outside[i].byteSize(), i++) {
            MemorySegment.copy(outside[i], 0, copied, at, outside[i].byteSize());
        }
        assertArrayEquals(expected.asSlice(3, 13).toArray(ValueLayout.JAVA_BYTE),
                copied.asSlice(2, 13).toArray(ValueLayout.JAVA_BYTE));
        assertEquals(0, copied.get(ValueLayout.JAVA_BYTE, 1), "nothing before the destination position");
        assertEquals(0, copied.get(ValueLayout.JAVA_BYTE, 15), "nor past the length");

        assertEquals(4, list.copyTo(12, destination, 0, 20), "the source ends 4 bytes after position 12");
        assertEquals(3, list.copyTo(0, destination, 35, 20), "the destination ends 3 bytes after position 35");
    }

    @Test
    void aShortIsWrittenLittleEndianInOnePieceOrAcrossTwo() {
        assertNull(memory.gather(MIB - 8, 16, list));
        MemorySegment back = Arena.ofAuto().allocate(16);

        list.putShortLE(2, (short) 0x1234);
        list.putShortLE(7, (short) 0x5678);
        list.copyTo(0, 0, back);

        assertEquals(0x34, back.get(ValueLayout.JAVA_BYTE, 2));
        assertEquals(0x12, back.get(ValueLayout.JAVA_BYTE, 3));
        assertEquals(0x78, back.get(ValueLayout.JAVA_BYTE, 7), "the last byte of the first piece");
        assertEquals(0x56, back.get(ValueLayout.JAVA_BYTE, 8), "the first byte of the second");
        assertThrows(IndexOutOfBoundsException.class, () -> list.putShortLE(15, (short) 1), "past the pieces' end");
    }

    @Test
    void truncatingUndoesTheLastPieces() {
        assertNull(memory.gather(MIB - 8, 16, list));
        list.truncate(1);
        assertEquals(1, list.count());
        assertEquals(8, list.totalLength());
        assertThrows(IndexOutOfBoundsException.class, () -> list.length(1));
        assertThrows(IndexOutOfBoundsException.class, () -> list.truncate(2));
    }

    @Test
    void aBufferOutsideGuestMemoryIsOnePieceUntilTheListIsFull() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(100);
            assertNull(memory.gather(0, 8, list));
            assertTrue(list.add(buffer));
            assertEquals(2, list.count());
            assertEquals(108, list.totalLength());
            assertEquals(buffer.address(), list.address(1));

            MemorySegment bytes = Arena.ofAuto().allocate(16).fill((byte) 0x33);
            assertEquals(16, list.copyFrom(bytes, 1, 4));
            assertEquals(0x33, buffer.get(ValueLayout.JAVA_BYTE, 4));
            assertEquals(0, buffer.get(ValueLayout.JAVA_BYTE, 20));

            assertTrue(list.add(buffer));
            assertTrue(list.add(buffer));
            assertFalse(list.add(buffer));
            assertEquals(4, list.count());
        }
    }

    @Test
    void aRawAddressPointsAtThePiecesFirstByte() {
        assertNull(memory.gather(0x2000, 4, list));
        assertEquals(0x2000, MemorySegment.ofAddress(list.address(0)).reinterpret(4)
                .get(ValueLayout.JAVA_INT_UNALIGNED, 0));
    }
}
