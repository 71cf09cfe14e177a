package dev.lowmem.virtio.queue;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class QueueConfigTest {
    private static final RingAddresses RINGS = new RingAddresses(0x1000, 0x2000, 0x3000);

    @Test
    void theNegotiatedFeaturesChooseTheLayoutAndTheSuppression() {
        assertEquals(new QueueConfig(QueueLayout.PACKED, 256, RINGS, true), QueueConfig.of(
                Features.of(Feature.VERSION_1, Feature.RING_PACKED, Feature.RING_EVENT_IDX), 256, RINGS));
        assertEquals(new QueueConfig(QueueLayout.SPLIT, 256, RINGS, false),
                QueueConfig.of(Features.of(Feature.VERSION_1), 256, RINGS));
    }
}
