package dev.lowmem.devices.net;

import static dev.lowmem.devices.wire.VirtioNetHeader.F_DATA_VALID;
import static dev.lowmem.devices.wire.VirtioNetHeader.F_NEEDS_CSUM;

import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.virtio.Feature;
import java.lang.foreign.MemorySegment;

/**
 * Whether a transmitted frame's {@code virtio_net_hdr} may go to the port: it asks only for
 * offloads the driver negotiated, and every offset in it lies inside the frame (virtio 1.2,
 * 5.1.6.2: what a driver may ask; anything else is the guest's error, dropped and counted). Run
 * on the device's own copy of the header, so the guest cannot change it afterwards.
 */
final class TxHeaderCheck {
    /** Ethernet's header without a VLAN tag: anything shorter is not a frame. */
    static final int MIN_FRAME = 14;
    static final long MAX_FRAME = NetFeatures.MAX_GSO_PACKET + NetFeatures.ETHERNET_HEADER;
    private static final int TX_FLAGS = F_NEEDS_CSUM | F_DATA_VALID;

    private final boolean csum;
    private final boolean tso4;
    private final boolean tso6;
    private final boolean ufo;
    private final boolean ecn;

    TxHeaderCheck(long features) {
        csum = Feature.NET_CSUM.in(features);
        tso4 = Feature.NET_HOST_TSO4.in(features);
        tso6 = Feature.NET_HOST_TSO6.in(features);
        ufo = Feature.NET_HOST_UFO.in(features);
        ecn = Feature.NET_HOST_ECN.in(features);
    }

    /**
     * @param packetLength the frame's length after the header
     * @return null when the frame may go, otherwise the drop counter that says why not
     */
    NetCounter check(MemorySegment header, long packetLength) {
        if (packetLength < MIN_FRAME) {
            return NetCounter.TX_DROP_SHORT_FRAME;
        }
        if (packetLength > MAX_FRAME) {
            return NetCounter.TX_DROP_OVERSIZED;
        }
        int flags = VirtioNetHeader.flags(header);
        if ((flags & ~TX_FLAGS) != 0) {
            return NetCounter.TX_DROP_BAD_HEADER;
        }
        if ((flags & F_NEEDS_CSUM) != 0 && !(csum && checksumFits(header, packetLength))) {
            return NetCounter.TX_DROP_BAD_HEADER;
        }
        return segmentationAllowed(header, packetLength) ? null : NetCounter.TX_DROP_BAD_HEADER;
    }

    private static boolean checksumFits(MemorySegment header, long packetLength) {
        return VirtioNetHeader.csumStart(header) + VirtioNetHeader.csumOffset(header) + Short.BYTES <= packetLength;
    }

    private boolean segmentationAllowed(MemorySegment header, long packetLength) {
        int gsoType = VirtioNetHeader.gsoType(header);
        int protocol = gsoType & ~VirtioNetHeader.GSO_ECN;
        boolean withEcn = protocol != gsoType;
        if (protocol == VirtioNetHeader.GSO_NONE) {
            return !withEcn;
        }
        boolean negotiated = switch (protocol) {
            case VirtioNetHeader.GSO_TCPV4 -> tso4;
            case VirtioNetHeader.GSO_TCPV6 -> tso6;
            case VirtioNetHeader.GSO_UDP -> ufo;
            default -> false;
        };
        return negotiated && (!withEcn || ecn) && VirtioNetHeader.gsoSize(header) > 0
                && VirtioNetHeader.hdrLen(header) <= packetLength;
    }
}
