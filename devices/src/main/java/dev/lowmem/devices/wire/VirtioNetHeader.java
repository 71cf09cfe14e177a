package dev.lowmem.devices.wire;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The layout of {@code struct virtio_net_hdr} (virtio 1.2, 5.1.6), which leads every frame in
 * both directions. Little-endian, read from a copy the device owns, never from guest memory
 * twice.
 *
 * <pre>
 * struct virtio_net_hdr {       offset
 *     u8   flags;               0    NEEDS_CSUM 1, DATA_VALID 2, RSC_INFO 4
 *     u8   gso_type;            1    NONE 0, TCPV4 1, UDP 3, TCPV6 4, ECN 0x80
 *     le16 hdr_len;             2
 *     le16 gso_size;            4
 *     le16 csum_start;          6
 *     le16 csum_offset;         8
 *     le16 num_buffers;         10   only with VERSION_1 or MRG_RXBUF
 * };                            size 12 (10 without num_buffers)
 * </pre>
 */
public final class VirtioNetHeader {
    public static final int FLAGS_OFFSET = 0;
    public static final int GSO_TYPE_OFFSET = 1;
    public static final int HDR_LEN_OFFSET = 2;
    public static final int GSO_SIZE_OFFSET = 4;
    public static final int CSUM_START_OFFSET = 6;
    public static final int CSUM_OFFSET_OFFSET = 8;
    public static final int NUM_BUFFERS_OFFSET = 10;
    /** The header with num_buffers: VERSION_1 or MRG_RXBUF negotiated. */
    public static final int SIZE = 12;
    /** A legacy driver's header without MRG_RXBUF. */
    public static final int LEGACY_SIZE = 10;

    public static final int F_NEEDS_CSUM = 1;
    public static final int F_DATA_VALID = 2;
    public static final int GSO_NONE = 0;
    public static final int GSO_TCPV4 = 1;
    public static final int GSO_UDP = 3;
    public static final int GSO_TCPV6 = 4;
    public static final int GSO_ECN = 0x80;

    /**
     * The offloads a port honours by handing a frame's header on, untouched, to a receiving guest
     * that negotiated what it asks (a loopback, a switch between guests): see {@link #receivable}.
     */
    public static final long PASS_THROUGH_OFFLOADS = Features.of(Feature.NET_CSUM, Feature.NET_GUEST_CSUM,
            Feature.NET_HOST_TSO4, Feature.NET_GUEST_TSO4, Feature.NET_HOST_TSO6, Feature.NET_GUEST_TSO6,
            Feature.NET_HOST_ECN, Feature.NET_GUEST_ECN, Feature.NET_HOST_UFO, Feature.NET_GUEST_UFO);

    /** A 16-bit field of the header: little-endian (virtio 1.2, 5.1.6), anywhere in a buffer. */
    public static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private VirtioNetHeader() {
    }

    /**
     * Whether a driver with {@code features} may receive a frame with {@code header} as it is:
     * a checksum left to it needs GUEST_CSUM, a segmentation the matching GUEST_TSO4/TSO6/UFO,
     * and ECN GUEST_ECN (virtio 1.2, 5.1.6.4.1).
     */
    public static boolean receivable(MemorySegment header, long features) {
        if ((flags(header) & F_NEEDS_CSUM) != 0 && !Feature.NET_GUEST_CSUM.in(features)) {
            return false;
        }
        int gsoType = gsoType(header);
        Feature needed = switch (gsoType & ~GSO_ECN) {
            case GSO_TCPV4 -> Feature.NET_GUEST_TSO4;
            case GSO_TCPV6 -> Feature.NET_GUEST_TSO6;
            case GSO_UDP -> Feature.NET_GUEST_UFO;
            default -> null;
        };
        boolean ecn = (gsoType & GSO_ECN) != 0;
        return (needed == null || needed.in(features)) && (!ecn || Feature.NET_GUEST_ECN.in(features));
    }

    public static int flags(MemorySegment header) {
        return header.get(ValueLayout.JAVA_BYTE, FLAGS_OFFSET) & 0xFF;
    }

    public static int gsoType(MemorySegment header) {
        return header.get(ValueLayout.JAVA_BYTE, GSO_TYPE_OFFSET) & 0xFF;
    }

    public static int hdrLen(MemorySegment header) {
        return u16(header, HDR_LEN_OFFSET);
    }

    public static int gsoSize(MemorySegment header) {
        return u16(header, GSO_SIZE_OFFSET);
    }

    public static int csumStart(MemorySegment header) {
        return u16(header, CSUM_START_OFFSET);
    }

    public static int csumOffset(MemorySegment header) {
        return u16(header, CSUM_OFFSET_OFFSET);
    }

    public static int numBuffers(MemorySegment header) {
        return u16(header, NUM_BUFFERS_OFFSET);
    }

    private static int u16(MemorySegment header, long offset) {
        return header.get(LE16, offset) & 0xFFFF;
    }
}
