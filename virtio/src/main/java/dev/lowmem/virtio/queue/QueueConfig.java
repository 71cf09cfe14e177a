package dev.lowmem.virtio.queue;

import dev.lowmem.virtio.Feature;

/**
 * Everything a queue needs to start besides memory: its format, size, where its rings are, and
 * the negotiated features that change how the rings are used.
 *
 * @param eventIdx RING_EVENT_IDX was negotiated: notifications are suppressed by index, not by flags
 */
public record QueueConfig(QueueLayout layout, int size, RingAddresses rings, boolean eventIdx) {

    public static QueueConfig of(long features, int size, RingAddresses rings) {
        return new QueueConfig(QueueLayout.of(features), size, rings, Feature.RING_EVENT_IDX.in(features));
    }
}
