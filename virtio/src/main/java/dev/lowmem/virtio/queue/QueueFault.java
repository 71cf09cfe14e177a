package dev.lowmem.virtio.queue;

/**
 * What a guest did that leaves a queue with no sound next position. The queue stops handing out
 * chains; the device reports DEVICE_NEEDS_RESET and waits for the driver to reset it.
 */
public enum QueueFault {
    /** {@code avail->idx} ran ahead of the device's {@code last_avail_idx} by more than the queue size. */
    AVAIL_INDEX_JUMP("avail idx ran ahead of last_avail_idx by more than the queue size"),
    /** An available ring entry names a head descriptor outside the table. */
    HEAD_OUT_OF_RANGE("an available ring entry names a descriptor outside the table"),
    /** A packed ring's chain has NEXT on every descriptor of the ring: there is no end to return. */
    CHAIN_WRAPS_RING("a packed ring chain runs all the way around the ring");

    private final String description;

    QueueFault(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
