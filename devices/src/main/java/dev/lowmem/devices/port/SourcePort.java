package dev.lowmem.devices.port;

import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Generates frames of one size for the guest as fast as it takes them, and drops what the guest
 * sends: a benchmark's near end. Each frame is a broadcast Ethernet frame of the local
 * experimental EtherType 0x88B5 whose payload starts with a per-pair sequence number, so a
 * receiver can check order and loss; the rest is a fixed pattern.
 */
public final class SourcePort implements Port {
    /** The shortest Ethernet frame without its FCS. */
    public static final int MIN_FRAME = 60;
    public static final int MAX_FRAME = 65535;
    static final int ETHER_TYPE = 0x88B5;
    static final int SEQUENCE_OFFSET = 14;
    private static final int MAX_QUEUE_PAIRS = 16;
    /** Room in front of the template for the longest header, filled with zeros: no offload asked. */
    private static final int HEADER_ROOM = VirtioNetHeader.SIZE;
    private static final byte[] SOURCE_MAC = {0x02, 0, 0, 0, 0, 0x01};
    private static final ValueLayout.OfLong BIG_ENDIAN_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final int frameSize;
    private final Arena arena = Arena.ofShared();
    private final Generator[] queues;
    private volatile int headerSize;

    /** @param frameSize the Ethernet frame's length without the virtio-net header, 60 to 65535 */
    public SourcePort(int frameSize, int queuePairs) {
        if (frameSize < MIN_FRAME || frameSize > MAX_FRAME) {
            throw new IllegalArgumentException("source frame size " + frameSize + " is outside " + MIN_FRAME + ".."
                    + MAX_FRAME);
        }
        if (queuePairs < 1 || queuePairs > MAX_QUEUE_PAIRS) {
            throw new IllegalArgumentException("a source serves 1 to " + MAX_QUEUE_PAIRS + " queue pairs, not "
                    + queuePairs);
        }
        this.frameSize = frameSize;
        queues = new Generator[queuePairs];
        for (int i = 0; i < queuePairs; i++) {
            queues[i] = new Generator(arena.allocate(HEADER_ROOM + frameSize, Long.BYTES));
        }
    }

    @Override
    public String describe() {
        return "source of " + frameSize + "-byte frames";
    }

    @Override
    public long offloadFeatures() {
        return 0;
    }

    @Override
    public int maxQueuePairs() {
        return queues.length;
    }

    @Override
    public void negotiated(long features, int headerSize) {
        this.headerSize = headerSize;
    }

    @Override
    public PortQueue queue(int pair) {
        return queues[pair];
    }

    @Override
    public void close() {
        arena.close();
    }

    /** One pair's frame template and sequence; used by its worker alone. */
    private final class Generator implements PortQueue {
        private final MemorySegment template;
        private long sequence;

        Generator(MemorySegment template) {
            this.template = template;
            for (int i = 0; i < 6; i++) {
                template.set(ValueLayout.JAVA_BYTE, HEADER_ROOM + i, (byte) 0xFF);
            }
            MemorySegment.copy(MemorySegment.ofArray(SOURCE_MAC), 0, template, HEADER_ROOM + 6, 6);
            template.set(ValueLayout.JAVA_BYTE, HEADER_ROOM + 12, (byte) (ETHER_TYPE >>> 8));
            template.set(ValueLayout.JAVA_BYTE, HEADER_ROOM + 13, (byte) ETHER_TYPE);
            for (int i = SEQUENCE_OFFSET + Long.BYTES; i < frameSize; i++) {
                template.set(ValueLayout.JAVA_BYTE, HEADER_ROOM + i, (byte) i);
            }
        }

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
            return headerSize + frameSize;
        }

        @Override
        public boolean waitsWithoutLoss() {
            return true;
        }

        @Override
        public long receive(RxBuffers buffers) {
            int header = headerSize;
            template.set(BIG_ENDIAN_LONG, HEADER_ROOM + SEQUENCE_OFFSET, sequence++);
            return buffers.copyFrom(template, HEADER_ROOM - header, header + frameSize);
        }
    }
}
