package dev.lowmem.virtio.vhostuser;

import dev.lowmem.virtio.FeatureBit;

/**
 * vhost-user protocol feature bits (docs/interop/vhost-user.rst, "Protocol features"), negotiated
 * with GET/SET_PROTOCOL_FEATURES once both sides have VHOST_USER_F_PROTOCOL_FEATURES.
 */
public enum ProtocolFeature implements FeatureBit {
    MQ(0),
    LOG_SHMFD(1),
    RARP(2),
    REPLY_ACK(3),
    NET_MTU(4),
    BACKEND_REQ(5),
    CROSS_ENDIAN(6),
    CRYPTO_SESSION(7),
    PAGEFAULT(8),
    CONFIG(9),
    BACKEND_SEND_FD(10),
    HOST_NOTIFIER(11),
    INFLIGHT_SHMFD(12),
    RESET_DEVICE(13),
    INBAND_NOTIFICATIONS(14),
    CONFIGURE_MEM_SLOTS(15),
    STATUS(16);

    private final int bit;

    ProtocolFeature(int bit) {
        this.bit = bit;
    }

    @Override
    public int bit() {
        return bit;
    }

    public static long of(ProtocolFeature... features) {
        return FeatureBit.maskOf(features);
    }

    /** "MQ | REPLY_ACK | bit 40": each set bit by its spec name, or its number. */
    public static String describe(long bits) {
        return FeatureBit.describe(bits, bit -> BY_BIT[bit]);
    }

    private static final ProtocolFeature[] BY_BIT = new ProtocolFeature[Long.SIZE];

    static {
        for (ProtocolFeature feature : values()) {
            BY_BIT[feature.bit] = feature;
        }
    }
}
