package dev.lowmem.devices.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.virtio.Feature;
import dev.lowmem.vmm.core.testing.FuzzInput;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Set;

/**
 * The TX header check against any {@code virtio_net_hdr}, frame length and negotiated features
 * (docs/FUZZING.md): it never throws, refuses only with a TX drop counter, and what it lets go
 * to the port is what the port may trust: a sane length, only the offloads negotiated, and every
 * offset inside the frame.
 *
 * <p>Input: the driver's features (u64), the header as the transmit path copies it (its
 * negotiated size, 10 or 12 bytes), then the frame's length after the header (u64, made
 * non-negative: the transmit path refuses a chain shorter than its header before the check).
 */
class TxHeaderCheckFuzzTest {
    private static final Set<NetCounter> REFUSALS = Set.of(NetCounter.TX_DROP_SHORT_FRAME,
            NetCounter.TX_DROP_OVERSIZED, NetCounter.TX_DROP_BAD_HEADER);

    @FuzzTest
    void onlyTrustworthyHeadersPass(byte[] bytes) {
        FuzzInput input = new FuzzInput(bytes);
        long features = input.u64();
        int headerSize = NetFeatures.headerSize(features);
        MemorySegment header = MemorySegment.ofArray(Arrays.copyOf(input.bytes(headerSize), headerSize));
        long packetLength = input.u64() & Long.MAX_VALUE;

        NetCounter refused = new TxHeaderCheck(features).check(header, packetLength);

        if (refused != null) {
            assertTrue(REFUSALS.contains(refused), refused::toString);
            assertEquals(packetLength < TxHeaderCheck.MIN_FRAME, refused == NetCounter.TX_DROP_SHORT_FRAME);
            return;
        }
        assertTrue(packetLength >= TxHeaderCheck.MIN_FRAME && packetLength <= TxHeaderCheck.MAX_FRAME);
        int flags = VirtioNetHeader.flags(header);
        assertEquals(0, flags & ~(VirtioNetHeader.F_NEEDS_CSUM | VirtioNetHeader.F_DATA_VALID), "unknown flags");
        if ((flags & VirtioNetHeader.F_NEEDS_CSUM) != 0) {
            assertTrue(Feature.NET_CSUM.in(features), "a checksum offload not negotiated");
            assertTrue(VirtioNetHeader.csumStart(header) + VirtioNetHeader.csumOffset(header) + Short.BYTES
                    <= packetLength, "a checksum outside the frame");
        }
        assertSegmentationNegotiated(header, features, packetLength);
    }

    private static void assertSegmentationNegotiated(MemorySegment header, long features, long packetLength) {
        int gsoType = VirtioNetHeader.gsoType(header);
        boolean ecn = (gsoType & VirtioNetHeader.GSO_ECN) != 0;
        int protocol = gsoType & ~VirtioNetHeader.GSO_ECN;
        if (protocol == VirtioNetHeader.GSO_NONE) {
            assertFalse(ecn, "ECN without segmentation");
            return;
        }
        Feature offload = switch (protocol) {
            case VirtioNetHeader.GSO_TCPV4 -> Feature.NET_HOST_TSO4;
            case VirtioNetHeader.GSO_TCPV6 -> Feature.NET_HOST_TSO6;
            case VirtioNetHeader.GSO_UDP -> Feature.NET_HOST_UFO;
            default -> throw new AssertionError("gso_type " + gsoType + " let through");
        };
        assertTrue(offload.in(features), offload + " not negotiated");
        assertTrue(!ecn || Feature.NET_HOST_ECN.in(features), "HOST_ECN not negotiated");
        assertTrue(VirtioNetHeader.gsoSize(header) > 0, "a zero segment size");
        assertTrue(VirtioNetHeader.hdrLen(header) <= packetLength, "headers longer than the frame");
    }
}
