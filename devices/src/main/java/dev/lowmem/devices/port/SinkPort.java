package dev.lowmem.devices.port;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Takes every frame the guest sends and drops it; gives none. A benchmark's far end: the device's
 * own TX counters say what arrived. Takes any offload, since nothing looks inside a frame.
 *
 * <p>A sink that {@link #copying() copies} reads each frame once, header and packet, into a
 * buffer of its queue's, as DPDK's testpmd in rxonly mode copies each into an mbuf: the
 * comparison of a back-end's TX path is then like for like, where the dropping sink never
 * touches the guest's buffers.
 */
public final class SinkPort implements Port {
    private static final int MAX_QUEUE_PAIRS = 256;
    private static final long OFFLOADS = Features.of(Feature.NET_CSUM, Feature.NET_HOST_TSO4, Feature.NET_HOST_TSO6,
            Feature.NET_HOST_ECN, Feature.NET_HOST_UFO);
    /** The largest frame a guest sends, a 64 KiB segment, and the largest virtio-net header. */
    private static final int MAX_FRAME = 65_535 + 12;
    private static final PortQueue DROPPING = new SinkQueue() {
        @Override
        public boolean transmit(TxFrame frame) {
            return true;
        }
    };

    /** Null for a sink that drops unread; else where each queue's frames are copied. */
    private final Arena arena;

    private SinkPort(Arena arena) {
        this.arena = arena;
    }

    /** The sink that drops each frame unread. */
    public static SinkPort dropping() {
        return new SinkPort(null);
    }

    /** The sink that copies each frame once, then drops it. */
    public static SinkPort copying() {
        return new SinkPort(Arena.ofShared());
    }

    @Override
    public String describe() {
        return arena == null ? "sink" : "sink (copies each frame)";
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
        return arena == null ? DROPPING : new CopyingQueue(arena.allocate(MAX_FRAME, Long.BYTES));
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
        }
    }

    /** A queue with nothing to wait on and nothing to give. */
    private abstract static class SinkQueue implements PortQueue {
        @Override
        public FileDescriptor fd() {
            return null;
        }

        @Override
        public long nextFrameLength() {
            return 0;
        }

        @Override
        public long receive(RxBuffers buffers) {
            return 0;
        }
    }

    /** Copies each frame into its one buffer, which the next frame overwrites; one worker thread. */
    private static final class CopyingQueue extends SinkQueue {
        private final MemorySegment copy;

        CopyingQueue(MemorySegment copy) {
            this.copy = copy;
        }

        @Override
        public boolean transmit(TxFrame frame) {
            frame.copyTo(copy, 0);
            return true;
        }
    }
}
