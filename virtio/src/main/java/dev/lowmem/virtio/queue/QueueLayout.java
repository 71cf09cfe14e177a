package dev.lowmem.virtio.queue;

import dev.lowmem.virtio.Feature;

/** The two ring formats of virtio 1.x, with the size and alignment of each of their three areas. */
public enum QueueLayout {
    SPLIT(16, 2, 4),
    PACKED(16, 4, 4);

    /** The largest queue either format allows (2^15: packed rings keep a wrap bit in the index's top bit). */
    public static final int MAX_SIZE = 1 << 15;

    private final int descAlignment;
    private final int driverAlignment;
    private final int deviceAlignment;

    QueueLayout(int descAlignment, int driverAlignment, int deviceAlignment) {
        this.descAlignment = descAlignment;
        this.driverAlignment = driverAlignment;
        this.deviceAlignment = deviceAlignment;
    }

    /** Whether a queue may have {@code size} entries: a power of two from 1 to {@link #MAX_SIZE}. */
    public static boolean isValidSize(int size) {
        return size > 0 && size <= MAX_SIZE && Integer.bitCount(size) == 1;
    }

    /** The layout the negotiated features select. */
    public static QueueLayout of(long features) {
        return Feature.RING_PACKED.in(features) ? PACKED : SPLIT;
    }

    public long descAreaSize(int size) {
        return this == SPLIT ? SplitRing.descTableSize(size) : (long) PackedRing.DESC_SIZE * size;
    }

    public long driverAreaSize(int size) {
        return this == SPLIT ? SplitRing.availSize(size) : PackedRing.EVENT_AREA_SIZE;
    }

    public long deviceAreaSize(int size) {
        return this == SPLIT ? SplitRing.usedSize(size) : PackedRing.EVENT_AREA_SIZE;
    }

    /**
     * The bytes one queue of {@code size} takes in a vhost-user inflight buffer (INFLIGHT_SHMFD):
     * the layout's queue region, rounded up to 64 bytes as DPDK and libvhost-user place them.
     */
    public long inflightRegionSize(int size) {
        long bytes = this == SPLIT ? SplitInflight.regionSize(size) : PackedInflight.regionSize(size);
        return (bytes + INFLIGHT_ALIGNMENT - 1) & -INFLIGHT_ALIGNMENT;
    }

    private static final long INFLIGHT_ALIGNMENT = 64;

    public int descAlignment() {
        return descAlignment;
    }

    public int driverAlignment() {
        return driverAlignment;
    }

    public int deviceAlignment() {
        return deviceAlignment;
    }
}
