package dev.lowmem.devices.net;

import static dev.lowmem.virtio.Feature.NET_CSUM;
import static dev.lowmem.virtio.Feature.NET_GUEST_CSUM;
import static dev.lowmem.virtio.Feature.NET_GUEST_ECN;
import static dev.lowmem.virtio.Feature.NET_GUEST_TSO4;
import static dev.lowmem.virtio.Feature.NET_GUEST_TSO6;
import static dev.lowmem.virtio.Feature.NET_GUEST_UFO;
import static dev.lowmem.virtio.Feature.NET_HOST_ECN;
import static dev.lowmem.virtio.Feature.NET_HOST_TSO4;
import static dev.lowmem.virtio.Feature.NET_HOST_TSO6;
import static dev.lowmem.virtio.Feature.NET_HOST_UFO;

import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;

/**
 * Which virtio-net features go together (virtio 1.2, 5.1.3.1), and what the negotiated set means
 * for the datapath.
 */
final class NetFeatures {
    /** What the device does itself, whatever the port: rings, mergeable buffers, config fields. */
    static final long DEVICE_OWN = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX, Feature.RING_INDIRECT_DESC,
            Feature.RING_PACKED, Feature.NET_MRG_RXBUF, Feature.NET_STATUS, Feature.NET_MAC, Feature.NET_MTU);
    /** What a device with its own control queue offers besides (VirtioNet.withControlQueue). */
    static final long CONTROL_QUEUE = Features.of(Feature.NET_CTRL_VQ, Feature.NET_CTRL_RX, Feature.NET_CTRL_RX_EXTRA,
            Feature.NET_CTRL_VLAN, Feature.NET_CTRL_MAC_ADDR);
    /** The offloads a port may contribute. */
    static final long OFFLOADS = Features.of(NET_CSUM, NET_GUEST_CSUM, NET_HOST_TSO4, NET_HOST_TSO6, NET_HOST_ECN,
            NET_HOST_UFO, NET_GUEST_TSO4, NET_GUEST_TSO6, NET_GUEST_ECN, NET_GUEST_UFO);
    /** Segmentation the guest may ask of the device on transmit. */
    static final long HOST_GSO = Features.of(NET_HOST_TSO4, NET_HOST_TSO6, NET_HOST_UFO);
    /** Segmentation the device may leave to the guest on receive. */
    static final long GUEST_GSO = Features.of(NET_GUEST_TSO4, NET_GUEST_TSO6, NET_GUEST_UFO);
    /** An Ethernet header with one VLAN tag. */
    static final int ETHERNET_HEADER = 18;
    /** The largest IP packet a segmentation offload carries. */
    static final int MAX_GSO_PACKET = 65535;

    private NetFeatures() {
    }

    /**
     * Drops offloads whose prerequisite is missing: segmentation needs checksum offload in the
     * same direction, ECN needs segmentation.
     */
    static long consistentOffloads(long offloads) {
        long bits = offloads & OFFLOADS;
        if (!NET_CSUM.in(bits)) {
            bits &= ~HOST_GSO;
        }
        if (!NET_GUEST_CSUM.in(bits)) {
            bits &= ~GUEST_GSO;
        }
        if ((bits & Features.of(NET_HOST_TSO4, NET_HOST_TSO6)) == 0) {
            bits &= ~NET_HOST_ECN.mask();
        }
        if ((bits & Features.of(NET_GUEST_TSO4, NET_GUEST_TSO6)) == 0) {
            bits &= ~NET_GUEST_ECN.mask();
        }
        return bits;
    }

    /** The {@code virtio_net_hdr} size the driver and device agreed on (virtio 1.2, 5.1.6). */
    static int headerSize(long features) {
        return Feature.VERSION_1.in(features) || Feature.NET_MRG_RXBUF.in(features)
                ? VirtioNetHeader.SIZE : VirtioNetHeader.LEGACY_SIZE;
    }

    /** The largest frame, without its virtio_net_hdr, the device hands the guest. */
    static int maxRxFrame(long features, int mtu) {
        return (features & GUEST_GSO) != 0 ? MAX_GSO_PACKET + ETHERNET_HEADER : mtu + ETHERNET_HEADER;
    }
}
