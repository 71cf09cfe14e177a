package dev.lowmem.devices.port;

import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Sends every frame the guest transmits on a queue pair back to the guest on the same pair,
 * header and all, through a small backlog of slots: when the guest receives slower than it
 * sends, the backlog fills and TX waits for room (the port is "full"), so nothing is dropped.
 * A frame that asks the guest's RX side for an offload it did not negotiate cannot be handed
 * back as it is; it is refused and counted as a port error.
 */
public final class LoopbackPort implements Port {
    /** Frames a pair holds between TX and RX. */
    public static final int BACKLOG_SLOTS = 64;
    private static final int MAX_QUEUE_PAIRS = 16;
    private static final long SLOT_SIZE = VirtioNetHeader.SIZE + 65535 + 18;

    private final Arena arena = Arena.ofShared();
    private final Backlog[] queues;
    private volatile long negotiated;

    public LoopbackPort(int queuePairs) {
        if (queuePairs < 1 || queuePairs > MAX_QUEUE_PAIRS) {
            throw new IllegalArgumentException("a loopback serves 1 to " + MAX_QUEUE_PAIRS + " queue pairs, not "
                    + queuePairs);
        }
        queues = new Backlog[queuePairs];
        for (int i = 0; i < queuePairs; i++) {
            queues[i] = new Backlog(arena.allocate(SLOT_SIZE * BACKLOG_SLOTS, Long.BYTES));
        }
    }

    @Override
    public String describe() {
        return "loopback";
    }

    @Override
    public long offloadFeatures() {
        return VirtioNetHeader.PASS_THROUGH_OFFLOADS;
    }

    @Override
    public int maxQueuePairs() {
        return queues.length;
    }

    @Override
    public void negotiated(long features, int headerSize) {
        negotiated = features;
    }

    @Override
    public PortQueue queue(int pair) {
        return queues[pair];
    }

    @Override
    public void close() {
        arena.close();
    }

    /** One pair's ring of slots; its worker alone moves frames, anyone may read the depth. */
    private final class Backlog implements PortQueue {
        private final MemorySegment slots;
        private final long[] lengths = new long[BACKLOG_SLOTS];
        private int head;
        private volatile int held;

        Backlog(MemorySegment slots) {
            this.slots = slots;
        }

        @Override
        public FileDescriptor fd() {
            return null;
        }

        @Override
        public boolean transmit(TxFrame frame) throws IOException {
            if (held == BACKLOG_SLOTS) {
                return false;
            }
            if (!VirtioNetHeader.receivable(frame.header(), negotiated)) {
                throw new IOException("the frame asks the receiving guest for an offload it did not negotiate");
            }
            int slot = (head + held) % BACKLOG_SLOTS;
            frame.copyTo(slots, slot * SLOT_SIZE);
            lengths[slot] = frame.length();
            held++;
            return true;
        }

        @Override
        public long nextFrameLength() {
            return held == 0 ? 0 : lengths[head];
        }

        @Override
        public boolean waitsWithoutLoss() {
            return true;
        }

        @Override
        public long receive(RxBuffers buffers) {
            if (held == 0) {
                return 0;
            }
            long length = buffers.copyFrom(slots, head * SLOT_SIZE, lengths[head]);
            head = (head + 1) % BACKLOG_SLOTS;
            held--;
            return length;
        }

        @Override
        public int backlog() {
            return held;
        }

        @Override
        public int discard() {
            int dropped = held;
            head = 0;
            held = 0;
            return dropped;
        }
    }
}
