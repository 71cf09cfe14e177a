package dev.lowmem.devices.port;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;

/**
 * Takes every frame the guest sends and drops it; gives none. A benchmark's far end: the device's
 * own TX counters say what arrived. Takes any offload, since nothing looks inside a frame.
 */
public final class SinkPort implements Port {
    private static final int MAX_QUEUE_PAIRS = 256;
    private static final long OFFLOADS = Features.of(Feature.NET_CSUM, Feature.NET_HOST_TSO4, Feature.NET_HOST_TSO6,
            Feature.NET_HOST_ECN, Feature.NET_HOST_UFO);
    private static final PortQueue QUEUE = new PortQueue() {
        @Override
        public FileDescriptor fd() {
            return null;
        }

        @Override
        public boolean transmit(TxFrame frame) {
            return true;
        }

        @Override
        public long nextFrameLength() {
            return 0;
        }

        @Override
        public long receive(RxBuffers buffers) {
            return 0;
        }
    };

    @Override
    public String describe() {
        return "sink";
    }

    @Override
    public long offloadFeatures() {
        return OFFLOADS;
    }

    @Override
    public int maxQueuePairs() {
        return MAX_QUEUE_PAIRS;
    }

    @Override
    public void negotiated(long features, int headerSize) {
        // Nothing to set: a sink looks at no header.
    }

    @Override
    public PortQueue queue(int pair) {
        return QUEUE;
    }

    @Override
    public void close() {
        // Nothing held.
    }
}
