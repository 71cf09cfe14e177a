package dev.lowmem.devices.port;

import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.vmm.core.event.Epoll;
import dev.lowmem.vmm.core.event.EpollEvents;
import dev.lowmem.vmm.core.memory.ScatterList;
import dev.lowmem.vmm.core.nativeio.IovecArray;
import dev.lowmem.vmm.core.nativeio.LibC;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The guest's end of one {@link PortQueue}, played by a test as a worker would drive it: a frame
 * to send goes out as a {@link TxFrame} (the header in the worker's scratch, the packet in native
 * memory standing in for guest memory); a frame comes back through {@link RxBuffers} over two
 * native buffers, as a chain of two descriptors would give it.
 */
final class GuestSide implements AutoCloseable {
    static final long RECEIVE_TIMEOUT_MILLIS = 5_000;
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** The first RX buffer's length: the header and the start of the frame in one, the rest in the other. */
    private static final int FIRST_RX_BUFFER = 64;

    private final PortQueue queue;
    private final int headerSize;
    private final MemorySegment txHeader;
    private final MemorySegment txPacket;
    private final ScatterList txChain = new ScatterList(1);
    private final TxFrame txFrame;
    private final ScatterList rxChain = new ScatterList(2);
    private final RxBuffers rxBuffers;
    private final Epoll epoll;
    private final EpollEvents ready;

    /** @param rxCapacity bytes the RX buffers hold, header included */
    GuestSide(Arena arena, PortQueue queue, int headerSize, int rxCapacity) throws IOException {
        this.queue = queue;
        this.headerSize = headerSize;
        txHeader = arena.allocate(headerSize);
        txPacket = arena.allocate(65_536);
        IovecArray txIovecs = new IovecArray(arena, 2);
        txFrame = new TxFrame(txHeader, txIovecs);

        IovecArray rxIovecs = new IovecArray(arena, 2);
        for (MemorySegment buffer : List.of(arena.allocate(FIRST_RX_BUFFER), arena.allocate(rxCapacity - FIRST_RX_BUFFER))) {
            rxChain.add(buffer);
            rxIovecs.add(buffer);
        }
        rxBuffers = new RxBuffers(rxChain, rxIovecs);

        epoll = Epoll.create();
        epoll.add(queue.fd(), LibC.EPOLLIN, 0);
        ready = new EpollEvents(arena, 1);
    }

    /** Sends {@code frame} as a guest that asks for no offload. */
    boolean send(ByteBuffer frame) throws IOException {
        return send(frame, 0, 0, 0);
    }

    /** Sends {@code frame} with a vnet header carrying {@code flags} and the checksum's place. */
    boolean send(ByteBuffer frame, int flags, int csumStart, int csumOffset) throws IOException {
        txHeader.fill((byte) 0);
        txHeader.set(ValueLayout.JAVA_BYTE, VirtioNetHeader.FLAGS_OFFSET, (byte) flags);
        txHeader.set(LE16, VirtioNetHeader.CSUM_START_OFFSET, (short) csumStart);
        txHeader.set(LE16, VirtioNetHeader.CSUM_OFFSET_OFFSET, (short) csumOffset);

        int length = frame.remaining();
        MemorySegment.copy(MemorySegment.ofBuffer(frame), 0, txPacket, 0, length);
        MemorySegment packet = txPacket.asSlice(0, length);
        txChain.clear();
        txChain.add(packet);
        txFrame.wrap(txChain, 0, length);
        txFrame.iovecs().clear();
        txFrame.iovecs().add(txHeader);
        txFrame.iovecs().add(packet);
        return queue.transmit(txFrame);
    }

    /**
     * The next frame {@code wanted} accepts, waiting for it up to {@link #RECEIVE_TIMEOUT_MILLIS};
     * frames before it are dropped, and named if none comes.
     */
    Received receive(String what, Predicate<ByteBuffer> wanted) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RECEIVE_TIMEOUT_MILLIS);
        List<String> skipped = new ArrayList<>();
        while (true) {
            long length = queue.receive(rxBuffers);
            if (length > 0) {
                Received received = copyOut(length);
                if (wanted.test(received.frame())) {
                    return received;
                }
                skipped.add(received.describe());
                continue;
            }
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return fail("no " + what + " within " + RECEIVE_TIMEOUT_MILLIS + " ms; frames before: " + skipped);
            }
            epoll.wait(ready, (int) left);
        }
    }

    /** Whether a frame {@code wanted} is waiting now, without waiting for one; other frames are skipped. */
    boolean hasNow(Predicate<ByteBuffer> wanted) throws IOException {
        for (long length = queue.receive(rxBuffers); length > 0; length = queue.receive(rxBuffers)) {
            if (wanted.test(copyOut(length).frame())) {
                return true;
            }
        }
        return false;
    }

    /** One receive, without waiting: the length it returned, 0 when the host had no frame. */
    long receiveNow() throws IOException {
        return queue.receive(rxBuffers);
    }

    /** The header and as much of the frame as the buffers held. */
    private Received copyOut(long length) {
        MemorySegment copy = MemorySegment.ofArray(new byte[(int) Math.min(length, rxBuffers.capacity())]);
        rxChain.copyTo(0, 0, copy);
        MemorySegment header = copy.asSlice(0, headerSize);
        ByteBuffer frame = copy.asSlice(headerSize).asByteBuffer();
        return new Received(header, frame, length);
    }

    /**
     * A frame as the guest got it.
     *
     * @param header its vnet header
     * @param frame  the Ethernet frame, cut where the buffers ended
     * @param length what {@link PortQueue#receive} returned: the header's and the whole frame's length
     */
    record Received(MemorySegment header, ByteBuffer frame, long length) {
        String describe() {
            return String.format("ethertype 0x%04x, %d bytes", frame.getShort(EthernetFrames.ETHER_TYPE) & 0xFFFF, length);
        }
    }

    @Override
    public void close() {
        epoll.close();
    }
}
