package dev.lowmem.devices.wire;

/**
 * The layout of {@code struct virtio_net_config}, the device's configuration space (virtio 1.2,
 * 5.1.4), little-endian.
 *
 * <pre>
 * struct virtio_net_config {          offset
 *     u8   mac[6];                    0
 *     le16 status;                    6    LINK_UP 1
 *     le16 max_virtqueue_pairs;       8
 *     le16 mtu;                       10
 * };                                  size 12
 * </pre>
 */
public final class VirtioNetConfig {
    public static final int MAC_OFFSET = 0;
    public static final int MAC_SIZE = 6;
    public static final int STATUS_OFFSET = 6;
    public static final int MAX_VIRTQUEUE_PAIRS_OFFSET = 8;
    public static final int MTU_OFFSET = 10;
    public static final int SIZE = 12;
    public static final short LINK_UP = 1;

    private VirtioNetConfig() {
    }
}
