package dev.lowmem.tools.loadgen;

import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;

/**
 * What the front-end takes of the backend's offer for a run, and what follows from it for the
 * datapath: the frames to send, the size of a TX slot and of an RX buffer.
 *
 * @param features the driver features to send (SET_FEATURES)
 * @param headerSize the {@code virtio_net_hdr} in front of every frame: 12 bytes in virtio 1.x
 * @param mtu the device's MTU, 1500 when it did not say
 * @param txFrame PLAIN up to the MTU plus the Ethernet header, TSO4 above
 * @param mss the TCP segment size of TSO4 frames
 * @param txSlotLength bytes of guest memory per TX frame, header included
 * @param rxBufferLength bytes of one RX buffer (one descriptor per chain)
 * @param mergeable NET_MRG_RXBUF taken: a frame may span several RX buffers
 */
record Plan(long features, int headerSize, int mtu, FrameKind txFrame, int mss, int txSlotLength, int rxBufferLength,
        boolean mergeable) {
    static final int DEFAULT_MTU = 1500;
    /** An Ethernet header with one VLAN tag, which an MTU leaves out. */
    static final int ETHERNET_HEADER_WITH_VLAN = 18;
    /** The largest frame a device hands on once it may leave segmentation to the driver. */
    static final int MAX_GSO_FRAME = 65535 + ETHERNET_HEADER_WITH_VLAN;
    /**
     * The smallest mergeable buffer: a 1500-byte MTU frame fits one, as in Linux's virtio_net and
     * DPDK's default mbufs; buffers grow to the expected frame when it is larger.
     */
    static final int MIN_MERGEABLE_BUFFER = 2048;
    static final int SLOT_ALIGNMENT = 64;
    private static final long GUEST_GSO = Features.of(Feature.NET_GUEST_TSO4, Feature.NET_GUEST_TSO6,
            Feature.NET_GUEST_UFO);

    /**
     * Chooses the features and buffer sizes for {@code settings} from {@code offer}.
     *
     * @throws LoadgenException naming the option the backend cannot serve and what it lacks
     */
    static Plan choose(LoadSettings settings, DeviceOffer offer) throws LoadgenException {
        long offered = offer.features();
        if (!Feature.VERSION_1.in(offered)) {
            throw new LoadgenException("the backend does not offer VERSION_1, and the load generator speaks virtio 1.x"
                    + " only; it offers " + Features.describe(offered));
        }
        long features = Feature.VERSION_1.mask();
        if (settings.packed()) {
            features |= require(offered, Feature.RING_PACKED, "--packed");
        }
        if (settings.eventIdx()) {
            features |= offered & Feature.RING_EVENT_IDX.mask();
        }
        if (settings.mergeable()) {
            features |= offered & Feature.NET_MRG_RXBUF.mask();
        }
        features |= offered & (Feature.NET_MTU.mask() | Feature.VHOST_USER_PROTOCOL_FEATURES.mask());
        if (settings.queuePairs() > 1) {
            features |= require(offered, Feature.NET_MQ, "--queues " + settings.queuePairs());
            if (settings.queuePairs() > offer.maxQueuePairs()) {
                throw new LoadgenException("--queues " + settings.queuePairs() + ": the backend serves "
                        + offer.maxQueuePairs() + (offer.maxQueuePairs() == 1 ? " queue pair" : " queue pairs"));
            }
        }
        int mtu = Feature.NET_MTU.in(offered) && offer.mtu() > 0 ? offer.mtu() : DEFAULT_MTU;
        int frameSize = settings.frameSize();
        FrameKind txFrame = FrameKind.PLAIN;
        if (settings.mode().transmits() && frameSize > mtu + FrameKind.ETHERNET_HEADER) {
            txFrame = FrameKind.TSO4;
            String why = "--size " + frameSize + " is more than the device's MTU of " + mtu + " plus the "
                    + FrameKind.ETHERNET_HEADER + "-byte Ethernet header, so TX sends TSO frames";
            features |= require(offered, Feature.NET_CSUM, why) | require(offered, Feature.NET_HOST_TSO4, why);
            if (settings.mode().receives()) {
                // So that a loopback may hand the frames back as they went: partly checksummed, unsegmented.
                long guestTso = Features.of(Feature.NET_GUEST_CSUM, Feature.NET_GUEST_TSO4);
                if ((offered & guestTso) == guestTso) {
                    features |= guestTso;
                }
            }
        }
        int headerSize = VirtioNetHeader.SIZE;
        boolean mergeable = Feature.NET_MRG_RXBUF.in(features);
        int largestRx = Math.max(frameSize, (features & GUEST_GSO) != 0 ? MAX_GSO_FRAME : mtu + ETHERNET_HEADER_WITH_VLAN);
        int rxBufferLength = mergeable
                ? Math.max(MIN_MERGEABLE_BUFFER, align(headerSize + frameSize))
                : align(headerSize + largestRx);
        return new Plan(features, headerSize, mtu, txFrame, mtu - FrameKind.TCP_IPV4_HEADERS,
                align(headerSize + frameSize), rxBufferLength, mergeable);
    }

    private static long require(long offered, Feature feature, String asker) throws LoadgenException {
        if (!feature.in(offered)) {
            throw new LoadgenException(asker + ": that needs " + feature + ", which the backend does not offer; it"
                    + " offers " + Features.describe(offered));
        }
        return feature.mask();
    }

    private static int align(int length) {
        return (length + SLOT_ALIGNMENT - 1) & -SLOT_ALIGNMENT;
    }

    /** "split" or "packed". */
    String ring() {
        return Feature.RING_PACKED.in(features) ? "packed" : "split";
    }
}
