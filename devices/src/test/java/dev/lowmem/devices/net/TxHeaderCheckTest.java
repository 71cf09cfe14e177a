package dev.lowmem.devices.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class TxHeaderCheckTest {
    private static final long TSO4 = Features.of(Feature.VERSION_1, Feature.NET_CSUM, Feature.NET_HOST_TSO4);
    private final MemorySegment header = MemorySegment.ofArray(new byte[VirtioNetHeader.SIZE]);

    @Test
    void aPlainFrameOfAnySaneLengthPasses() {
        TxHeaderCheck check = new TxHeaderCheck(0);
        assertNull(check.check(header, 14));
        assertNull(check.check(header, TxHeaderCheck.MAX_FRAME));
        assertEquals(NetCounter.TX_DROP_SHORT_FRAME, check.check(header, 13));
        assertEquals(NetCounter.TX_DROP_OVERSIZED, check.check(header, TxHeaderCheck.MAX_FRAME + 1));
    }

    @Test
    void aChecksumRequestNeedsTheFeatureAndMustLieInsideTheFrame() {
        checksumAt(34, 16);
        assertEquals(NetCounter.TX_DROP_BAD_HEADER, new TxHeaderCheck(0).check(header, 100), "CSUM not negotiated");
        TxHeaderCheck check = new TxHeaderCheck(TSO4);
        assertNull(check.check(header, 52), "the checksum's two bytes end at the frame's end");
        assertEquals(NetCounter.TX_DROP_BAD_HEADER, check.check(header, 51));
        checksumAt(0xFFFF, 0xFFFF);
        assertEquals(NetCounter.TX_DROP_BAD_HEADER, check.check(header, 65000), "no 16-bit overflow");
    }

    @Test
    void segmentationOnlyAsNegotiated() {
        checksumAt(34, 16);
        segmentation(VirtioNetHeader.GSO_TCPV4, 1448, 66);
        TxHeaderCheck check = new TxHeaderCheck(TSO4);
        assertNull(check.check(header, 65000));
        assertEquals(NetCounter.TX_DROP_BAD_HEADER, new TxHeaderCheck(Features.of(Feature.NET_CSUM))
                .check(header, 65000), "HOST_TSO4 not negotiated");
        segmentation(VirtioNetHeader.GSO_TCPV6, 1448, 66);
        assertEquals(NetCounter.TX_DROP_BAD_HEADER, check.check(header, 65000), "HOST_TSO6 not negotiated");
        segmentation(VirtioNetHeader.GSO_TCPV4 | VirtioNetHeader.GSO_ECN, 1448, 66);
        assertEquals(NetCounter.TX_DROP_BAD_HEADER, check.check(header, 65000), "HOST_ECN not negotiated");
        segmentation(VirtioNetHeader.GSO_TCPV4, 0, 66);
        assertEquals(NetCounter.TX_DROP_BAD_HEADER, check.check(header, 65000), "a zero segment size");
        segmentation(VirtioNetHeader.GSO_TCPV4, 1448, 5000);
        assertEquals(NetCounter.TX_DROP_BAD_HEADER, check.check(header, 4000), "headers longer than the frame");
        segmentation(2, 1448, 66);
        assertEquals(NetCounter.TX_DROP_BAD_HEADER, check.check(header, 65000), "no such gso_type");
        segmentation(VirtioNetHeader.GSO_ECN, 0, 0);
        assertEquals(NetCounter.TX_DROP_BAD_HEADER, check.check(header, 100), "ECN without segmentation");
    }

    private void checksumAt(int start, int offset) {
        header.set(ValueLayout.JAVA_BYTE, VirtioNetHeader.FLAGS_OFFSET, (byte) VirtioNetHeader.F_NEEDS_CSUM);
        header.set(VirtioNetHeader.LE16, VirtioNetHeader.CSUM_START_OFFSET, (short) start);
        header.set(VirtioNetHeader.LE16, VirtioNetHeader.CSUM_OFFSET_OFFSET, (short) offset);
    }

    private void segmentation(int type, int size, int headerLength) {
        header.set(ValueLayout.JAVA_BYTE, VirtioNetHeader.GSO_TYPE_OFFSET, (byte) type);
        header.set(VirtioNetHeader.LE16, VirtioNetHeader.GSO_SIZE_OFFSET, (short) size);
        header.set(VirtioNetHeader.LE16, VirtioNetHeader.HDR_LEN_OFFSET, (short) headerLength);
    }
}
