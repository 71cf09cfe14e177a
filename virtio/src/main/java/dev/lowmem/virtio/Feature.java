package dev.lowmem.virtio;

/**
 * Feature bits, named as in the virtio 1.2 specification (section 6 for the reserved, transport
 * independent bits, 5.1.3 for the network device), plus the two bits vhost claims in the same
 * 64-bit word.
 */
public enum Feature implements FeatureBit {
    // virtio-net (5.1.3)
    NET_CSUM(0),
    NET_GUEST_CSUM(1),
    NET_CTRL_GUEST_OFFLOADS(2),
    NET_MTU(3),
    NET_MAC(5),
    NET_GUEST_TSO4(7),
    NET_GUEST_TSO6(8),
    NET_GUEST_ECN(9),
    NET_GUEST_UFO(10),
    NET_HOST_TSO4(11),
    NET_HOST_TSO6(12),
    NET_HOST_ECN(13),
    NET_HOST_UFO(14),
    NET_MRG_RXBUF(15),
    NET_STATUS(16),
    NET_CTRL_VQ(17),
    NET_CTRL_RX(18),
    NET_CTRL_VLAN(19),
    NET_CTRL_RX_EXTRA(20),
    NET_GUEST_ANNOUNCE(21),
    NET_MQ(22),
    NET_CTRL_MAC_ADDR(23),
    NET_NOTF_COAL(53),
    NET_GUEST_USO4(54),
    NET_GUEST_USO6(55),
    NET_HOST_USO(56),
    NET_HASH_REPORT(57),
    NET_GUEST_HDRLEN(59),
    NET_RSS(60),
    NET_RSC_EXT(61),
    NET_STANDBY(62),
    NET_SPEED_DUPLEX(63),

    // reserved feature bits (6)
    NOTIFY_ON_EMPTY(24),
    ANY_LAYOUT(27),
    RING_INDIRECT_DESC(28),
    RING_EVENT_IDX(29),
    VERSION_1(32),
    ACCESS_PLATFORM(33),
    RING_PACKED(34),
    IN_ORDER(35),
    ORDER_PLATFORM(36),
    SR_IOV(37),
    NOTIFICATION_DATA(38),
    NOTIF_CONFIG_DATA(39),
    RING_RESET(40),

    // vhost's own bits in the same word
    /** VHOST_F_LOG_ALL: the frontend wants dirty pages logged (live migration). */
    VHOST_LOG_ALL(26),
    /** VHOST_USER_F_PROTOCOL_FEATURES: the protocol-feature handshake is on offer. */
    VHOST_USER_PROTOCOL_FEATURES(30);

    private final int bit;

    Feature(int bit) {
        this.bit = bit;
    }

    @Override
    public int bit() {
        return bit;
    }
}
