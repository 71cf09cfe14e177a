package dev.lowmem.tools.loadgen;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lowmem.devices.wire.VirtioNetHeader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class FrameKindTest {
    private static final int HEADER = VirtioNetHeader.SIZE;
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private static MemorySegment slot(int frameSize) {
        // Garbage first: writing must not rely on zeroed memory.
        return Arena.ofAuto().allocate(HEADER + frameSize).fill((byte) 0x5A);
    }

    private static int u16(MemorySegment segment, long offset) {
        return segment.get(BE16, offset) & 0xFFFF;
    }

    @Test
    void aPlainFrameIsABroadcastOfTheExperimentalEtherTypeBehindAZeroHeader() {
        MemorySegment slot = slot(64);

        FrameKind.PLAIN.write(slot, HEADER, 64, 1460);

        assertArrayEquals(new byte[HEADER], slot.asSlice(0, HEADER).toArray(ValueLayout.JAVA_BYTE));
        MemorySegment frame = slot.asSlice(HEADER);
        assertArrayEquals(new byte[] {-1, -1, -1, -1, -1, -1}, frame.asSlice(0, 6).toArray(ValueLayout.JAVA_BYTE));
        assertArrayEquals(FrameKind.SOURCE_MAC, frame.asSlice(6, 6).toArray(ValueLayout.JAVA_BYTE));
        assertEquals(0x88B5, u16(frame, 12));
        assertEquals(14, FrameKind.PLAIN.sequenceOffset());
        assertEquals(0L, frame.get(FrameKind.SEQUENCE, 14));
        assertEquals((byte) 63, frame.get(ValueLayout.JAVA_BYTE, 63));
    }

    @Test
    void theSequenceIsBigEndianWhereTheKindSaysItIs() {
        MemorySegment slot = slot(100);
        FrameKind.PLAIN.write(slot, HEADER, 100, 1460);

        slot.set(FrameKind.SEQUENCE, HEADER + FrameKind.PLAIN.sequenceOffset(), 0x0102030405060708L);

        assertEquals(1, slot.get(ValueLayout.JAVA_BYTE, HEADER + 14));
        assertEquals(8, slot.get(ValueLayout.JAVA_BYTE, HEADER + 21));
    }

    @Test
    void aTsoFrameAsksForSegmentationAndAPartialChecksumThatCompletesToAValidOne() {
        int size = 9000;
        MemorySegment slot = slot(size);

        FrameKind.TSO4.write(slot, HEADER, size, 1460);

        MemorySegment header = slot.asSlice(0, HEADER);
        assertEquals(VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.flags(header));
        assertEquals(VirtioNetHeader.GSO_TCPV4, VirtioNetHeader.gsoType(header));
        assertEquals(54, VirtioNetHeader.hdrLen(header));
        assertEquals(1460, VirtioNetHeader.gsoSize(header));
        assertEquals(34, VirtioNetHeader.csumStart(header));
        assertEquals(16, VirtioNetHeader.csumOffset(header));
        assertEquals(0, VirtioNetHeader.numBuffers(header));
        MemorySegment frame = slot.asSlice(HEADER, size);
        assertEquals(0x0800, u16(frame, 12));
        MemorySegment ip = frame.asSlice(14);
        assertEquals(0x45, ip.get(ValueLayout.JAVA_BYTE, 0));
        assertEquals(size - 14, u16(ip, 2));
        assertEquals(FrameKind.PROTOCOL_TCP, ip.get(ValueLayout.JAVA_BYTE, 9));
        assertEquals(0xFFFF, FrameKind.fold(FrameKind.sum(ip, 0, 20)), "the IPv4 header checksum is valid");
        assertEquals(54, FrameKind.TSO4.sequenceOffset());

        // What the device (or the NIC) does with NEEDS_CSUM: sum from csum_start to the end, store the complement.
        MemorySegment tcp = ip.asSlice(20);
        int completed = ~FrameKind.fold(FrameKind.sum(tcp, 0, size - 34)) & 0xFFFF;
        tcp.set(BE16, 16, (short) completed);
        long pseudo = FrameKind.sum(ip, 12, 8) + FrameKind.PROTOCOL_TCP + (size - 34);
        assertEquals(0xFFFF, FrameKind.fold(pseudo + FrameKind.sum(tcp, 0, size - 34)),
                "the TCP checksum, once completed, is valid");
    }

    @Test
    void aTsoFrameOfSixtyFourKibibytesStillFitsTheIpv4Length() {
        MemorySegment slot = slot(65536);

        FrameKind.TSO4.write(slot, HEADER, 65536, 1460);

        assertEquals(65522, u16(slot, HEADER + 14 + 2));
    }

    @Test
    void aFrameTooShortForItsSequenceIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> FrameKind.TSO4.write(slot(60), HEADER, 60, 1460));
    }

    @Test
    void theChecksumSumOfAnOddLengthPadsTheLastByte() {
        MemorySegment bytes = MemorySegment.ofArray(new byte[] {0x12, 0x34, 0x56});

        assertEquals(0x1234 + 0x5600, FrameKind.sum(bytes, 0, 3));
        assertEquals(0x0001, FrameKind.fold(0x10000));
    }
}
