package dev.lowmem.virtio.vhostuser;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.queue.DriverChain;
import dev.lowmem.virtio.queue.PackedDeviceQueue;
import dev.lowmem.virtio.queue.QueueLayout;
import dev.lowmem.vmm.core.event.Epoll;
import dev.lowmem.vmm.core.event.EpollEvents;
import dev.lowmem.vmm.core.nativeio.LibC;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The guest driver's side of an {@link EchoDevice}, through our own front-end: guest memory in a
 * memfd, an RX and a TX queue in it, negotiation and ring set-up as QEMU does them, and round
 * trips of frames whose echoes are compared byte for byte. The memory and the rings outlive a
 * connection, so the driver can go away and come back on a new one, resuming from the ring
 * bases the back-end gave when it stopped the rings.
 */
final class EchoDriver implements AutoCloseable {
    static final long MEMORY_SIZE = 8 << 20;
    static final int QUEUE_SIZE = 256;
    static final int BUFFER_SIZE = 2048;
    static final long WANTED_PROTOCOL_FEATURES = ProtocolFeature.of(ProtocolFeature.MQ, ProtocolFeature.LOG_SHMFD,
            ProtocolFeature.REPLY_ACK, ProtocolFeature.CONFIG, ProtocolFeature.STATUS, ProtocolFeature.CONFIGURE_MEM_SLOTS);
    private static final long RX_RINGS = 0x1000;
    private static final long TX_RINGS = 0x20000;
    private static final long RX_BUFFERS = 1 << 20;
    private static final long TX_BUFFERS = 2 << 20;
    private static final int INTERRUPT_TIMEOUT_MS = 5000;

    final FrontendMemory memory;
    final FrontendQueue rx;
    final FrontendQueue tx;
    private final long features;
    private final int[] bases;
    private final long[] rxBufferOf = new long[QUEUE_SIZE];
    private final DriverChain chain = new DriverChain(1);
    private final Arena arena = Arena.ofShared();
    private final Epoll interrupts;
    private final EpollEvents ready = new EpollEvents(arena, 1);
    private VhostUserFrontend frontend;
    private long nextSlot;
    private long sequence;
    /** Where each echo was written and how long it was, {gpa, length}, since the last {@link #clearEchoes()}. */
    private final java.util.List<long[]> echoes = new java.util.ArrayList<>();

    private EchoDriver(FrontendMemory memory, long features) throws Exception {
        this.memory = memory;
        this.features = features | Feature.VHOST_USER_PROTOCOL_FEATURES.mask();
        rx = FrontendQueue.create(memory, RX_RINGS, features, QUEUE_SIZE);
        tx = FrontendQueue.create(memory, TX_RINGS, features, QUEUE_SIZE);
        int fresh = QueueLayout.of(features) == QueueLayout.PACKED ? PackedDeviceQueue.INITIAL_RING_BASE : 0;
        bases = new int[] {fresh, fresh};
        interrupts = Epoll.create();
        interrupts.add(rx.call().fd(), LibC.EPOLLIN, EchoDevice.RX);
    }

    /** Guest memory named {@code memfdName}, queues laid out as {@code features} say, not connected yet. */
    static EchoDriver create(String memfdName, long features) throws Exception {
        FrontendMemory memory = FrontendMemory.create(memfdName, MEMORY_SIZE);
        try {
            return new EchoDriver(memory, features);
        } catch (Exception | Error e) {
            memory.close();
            throw e;
        }
    }

    /** Connects and sets everything up as QEMU does, the memory table in {@code regions} regions. */
    VhostUserFrontend connect(Path socket, int regions) throws Exception {
        frontend = VhostUserFrontend.connect(socket, Duration.ofSeconds(5));
        return setUp(frontend, regions);
    }

    VhostUserFrontend setUp(VhostUserFrontend connected, int regions) throws Exception {
        frontend = connected;
        frontend.setOwner();
        long offered = frontend.getFeatures();
        assertTrue(Feature.VHOST_USER_PROTOCOL_FEATURES.in(offered), "the back-end offers protocol features");
        frontend.setProtocolFeatures(frontend.getProtocolFeatures() & WANTED_PROTOCOL_FEATURES);
        assertEquals(2, frontend.getQueueNum());
        frontend.setFeatures(features);
        frontend.setMemTable(memory.regions(regions));
        rx.setUp(frontend, EchoDevice.RX, bases[EchoDevice.RX]);
        tx.setUp(frontend, EchoDevice.TX, bases[EchoDevice.TX]);
        frontend.setVringEnable(EchoDevice.RX, true);
        frontend.setVringEnable(EchoDevice.TX, true);
        return frontend;
    }

    VhostUserFrontend frontend() {
        return frontend;
    }

    /** Stops both rings (GET_VRING_BASE), keeping their positions for the next connection, and disconnects. */
    void stopAndDisconnect() throws Exception {
        bases[EchoDevice.RX] = frontend.getVringBase(EchoDevice.RX);
        bases[EchoDevice.TX] = frontend.getVringBase(EchoDevice.TX);
        disconnect();
    }

    /** Goes away without a word, as a front-end that crashes does. */
    void disconnect() {
        frontend.close();
        frontend = null;
    }

    /** The features acked with SET_FEATURES, VHOST_USER_F_PROTOCOL_FEATURES among them. */
    long features() {
        return features;
    }

    /** Where the echoes since the last call were written, {gpa, length} each. */
    java.util.List<long[]> clearEchoes() {
        java.util.List<long[]> taken = java.util.List.copyOf(echoes);
        echoes.clear();
        return taken;
    }

    int base(int queue) {
        return bases[queue];
    }

    /** Sends {@code count} frames of various sizes, each starting with its sequence number, and checks every echo. */
    void roundTrip(int count) throws Exception {
        byte[][] frames = new byte[count][];
        for (int i = 0; i < count; i++) {
            frames[i] = frame(sequence++);
        }
        post(frames);
        awaitEchoes(frames);
    }

    /** Posts RX buffers and TX chains for {@code frames} and kicks; the echoes are left to come. */
    void post(byte[][] frames) throws Exception {
        reclaimTx();
        for (int i = 0; i < frames.length; i++) {
            long buffer = RX_BUFFERS + slot() * BUFFER_SIZE;
            int id = rx.driver().add(chain.clear().writable(buffer, BUFFER_SIZE), false);
            assertTrue(id >= 0, "room in the RX ring");
            rxBufferOf[id] = buffer;
        }
        rx.publish();
        for (byte[] frame : frames) {
            long buffer = TX_BUFFERS + slot() * BUFFER_SIZE;
            MemorySegment.copy(MemorySegment.ofArray(frame), 0, memory.bytes(buffer, frame.length), 0, frame.length);
            assertTrue(tx.driver().add(chain.clear().readable(buffer, frame.length), false) >= 0, "room in the TX ring");
        }
        tx.publish();
    }

    private long slot() {
        return nextSlot++ % (2 * QUEUE_SIZE);
    }

    /** Waits for the echoes of {@code frames}, in order, sleeping on the RX interrupt between them. */
    void awaitEchoes(byte[][] frames) throws Exception {
        int received = 0;
        while (received < frames.length) {
            int id = rx.driver().takeUsed();
            if (id >= 0) {
                int length = rx.driver().usedLength();
                byte[] echo = memory.bytes(rxBufferOf[id], length).toArray(ValueLayout.JAVA_BYTE);
                assertArrayEquals(frames[received], echo, "echo of frame " + received + " of " + frames.length);
                echoes.add(new long[] {rxBufferOf[id], length});
                received++;
                continue;
            }
            if (rx.driver().enableInterrupts()) {
                continue;
            }
            if (interrupts.wait(ready, INTERRUPT_TIMEOUT_MS) == 0) {
                throw new AssertionError("no RX interrupt within " + INTERRUPT_TIMEOUT_MS + " ms; " + received
                        + " of " + frames.length + " echoes came");
            }
            rx.call().read();
        }
        reclaimTx();
    }

    private void reclaimTx() {
        while (tx.driver().takeUsed() >= 0) {
            assertEquals(0, tx.driver().usedLength(), "a TX chain comes back with nothing written");
        }
    }

    /** 60 to 1514 bytes, its sequence number first and a pattern after. */
    static byte[] frame(long sequence) {
        int length = 60 + (int) ((sequence * 97) % 1455);
        byte[] frame = new byte[length];
        for (int i = 0; i < length; i++) {
            frame[i] = (byte) (sequence * 31 + i);
        }
        MemorySegment.ofArray(frame).set(ValueLayout.JAVA_LONG_UNALIGNED, 0, sequence);
        return frame;
    }

    @Override
    public void close() {
        if (frontend != null) {
            frontend.close();
        }
        interrupts.close();
        rx.close();
        tx.close();
        memory.close();
        arena.close();
    }
}
