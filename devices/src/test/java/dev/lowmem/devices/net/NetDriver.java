package dev.lowmem.devices.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.queue.DriverChain;
import dev.lowmem.virtio.queue.PackedDeviceQueue;
import dev.lowmem.virtio.queue.QueueLayout;
import dev.lowmem.virtio.vhostuser.FrontendMemory;
import dev.lowmem.virtio.vhostuser.FrontendQueue;
import dev.lowmem.virtio.vhostuser.ProtocolFeature;
import dev.lowmem.virtio.vhostuser.VhostUserFrontend;
import dev.lowmem.vmm.core.event.Epoll;
import dev.lowmem.vmm.core.event.EpollEvents;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.util.function.Predicate;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A guest's virtio-net driver for one queue pair, played through our vhost-user front-end: it
 * negotiates as QEMU does, posts RX buffers (one descriptor each with mergeable buffers, a
 * header descriptor and a large one without, as Linux does) and transmits frames as a header
 * descriptor and a packet descriptor, indirect when negotiated. Received frames are reassembled
 * across the buffers {@code num_buffers} names.
 */
final class NetDriver implements AutoCloseable {
    static final int QUEUE_SIZE = 256;
    /** The name of the guest memory's memfd, as /proc/self/maps shows it. */
    static final String MEMFD_NAME = "net-driver";
    private static final long MEMORY_SIZE = 64L << 20;
    private static final long RX_RINGS = 0x1000;
    private static final long TX_RINGS = 0x20000;
    private static final long RX_INDIRECT = 0x100000;
    private static final long TX_INDIRECT = 0x200000;
    private static final long INDIRECT_BYTES = 0x100000;
    private static final long TX_BUFFERS = 4L << 20;
    private static final long TX_SLOT = 64 << 10;
    private static final long RX_BUFFERS = 20L << 20;
    private static final long RX_SLOT = 80 << 10;
    private static final int TIMEOUT_MS = 5000;
    static final long PROTOCOL_FEATURES = ProtocolFeature.of(ProtocolFeature.MQ, ProtocolFeature.REPLY_ACK,
            ProtocolFeature.CONFIG, ProtocolFeature.STATUS, ProtocolFeature.RARP);

    /** One frame as the guest received it. */
    record Received(byte[] header, byte[] packet, int buffers) {
    }

    private final FrontendMemory memory;
    private final FrontendQueue rx;
    private final FrontendQueue tx;
    private final long features;
    private final int headerSize;
    private final boolean mergeable;
    private final boolean indirect;
    private final long[] rxBufferOf = new long[QUEUE_SIZE];
    private final DriverChain chain = new DriverChain(4);
    private final Arena arena = Arena.ofShared();
    private final Epoll interrupts;
    private final EpollEvents ready = new EpollEvents(arena, 1);
    private VhostUserFrontend frontend;
    private long protocolFeatures;
    private long rxSlot;
    private long txSlot;
    private int txReturned;

    private NetDriver(FrontendMemory memory, long features) throws Exception {
        this.memory = memory;
        this.features = features;
        this.headerSize = NetFeatures.headerSize(features);
        this.mergeable = Feature.NET_MRG_RXBUF.in(features);
        this.indirect = Feature.RING_INDIRECT_DESC.in(features);
        rx = FrontendQueue.create(memory, RX_RINGS, features, QUEUE_SIZE, RX_INDIRECT, INDIRECT_BYTES);
        tx = FrontendQueue.create(memory, TX_RINGS, features, QUEUE_SIZE, TX_INDIRECT, INDIRECT_BYTES);
        interrupts = Epoll.create();
        interrupts.add(rx.call().fd(), LibC.EPOLLIN, 0);
    }

    /** Makes the driver's guest memory: sealable, as QEMU's, or not, for the tests of a front-end that shrinks it. */
    @FunctionalInterface
    interface GuestMemoryMaker {
        FrontendMemory make(String name, long size) throws Exception;
    }

    /** Connects to {@code socket}, takes {@code features} (which must be on offer) and starts both queues. */
    static NetDriver connect(Path socket, long features) throws Exception {
        return connect(socket, features, FrontendMemory::create);
    }

    /** As {@link #connect(Path, long)}, on guest memory that {@code maker} makes. */
    static NetDriver connect(Path socket, long features, GuestMemoryMaker maker) throws Exception {
        FrontendMemory memory = maker.make(MEMFD_NAME, MEMORY_SIZE);
        NetDriver driver;
        try {
            driver = new NetDriver(memory, features);
        } catch (Exception | Error e) {
            memory.close();
            throw e;
        }
        try {
            driver.setUp(socket);
            return driver;
        } catch (Exception | Error e) {
            driver.close();
            throw e;
        }
    }

    private void setUp(Path socket) throws Exception {
        frontend = VhostUserFrontend.connect(socket, Duration.ofSeconds(5));
        frontend.setOwner();
        long offered = frontend.getFeatures();
        assertEquals(0, features & ~offered, "the device offers " + dev.lowmem.virtio.Features.describe(offered));
        protocolFeatures = frontend.getProtocolFeatures() & PROTOCOL_FEATURES;
        frontend.setProtocolFeatures(protocolFeatures);
        frontend.setFeatures(features | Feature.VHOST_USER_PROTOCOL_FEATURES.mask());
        frontend.setMemTable(memory.regions(2));
        int fresh = QueueLayout.of(features) == QueueLayout.PACKED ? PackedDeviceQueue.INITIAL_RING_BASE : 0;
        rx.setUp(frontend, 0, fresh);
        tx.setUp(frontend, 1, fresh);
        frontend.setVringEnable(0, true);
        frontend.setVringEnable(1, true);
    }

    /**
     * Sends the memory table again, the same bytes cut into {@code regions} regions: each is a new
     * mapping in the device, so its rings move. Safe beside a thread that sends and receives, for
     * those use the rings and eventfds, not the socket.
     */
    void resendMemoryTable(int regions) throws Exception {
        frontend.setMemTable(memory.regions(regions));
    }

    int headerSize() {
        return headerSize;
    }

    /** The session, for what a test asks of the back-end beyond the datapath. */
    VhostUserFrontend frontend() {
        return frontend;
    }

    /** The guest memory's file: a test may cut it short under the back-end. */
    FileDescriptor memoryFd() {
        return memory.fd();
    }

    /** Leaves the back-end as a front-end that goes away does: the connection closes, the rings stay as they are. */
    void disconnect() {
        frontend.close();
        frontend = null;
    }

    /**
     * Breaks the TX ring as a buggy or hostile guest can: its avail idx runs ahead of what the
     * device has taken by more than the ring holds (split rings), then kicks.
     */
    void breakTxRing() throws Exception {
        MemorySegment availIdx = memory.bytes(tx.config().rings().driverArea() + Short.BYTES, Short.BYTES);
        short next = (short) (availIdx.get(VirtioNetHeader.LE16, 0) + QUEUE_SIZE + 1);
        availIdx.set(VirtioNetHeader.LE16, 0, next);
        kickTx();
    }

    /** Kicks the TX queue without touching guest memory. */
    void kickTx() throws Exception {
        tx.kick().signal();
    }

    /** Posts {@code count} receive buffers of {@code size} bytes each. */
    void postRx(int count, int size) throws Exception {
        for (int i = 0; i < count; i++) {
            long buffer = RX_BUFFERS + (rxSlot++ % (2 * QUEUE_SIZE)) * RX_SLOT;
            chain.clear();
            if (mergeable) {
                chain.writable(buffer, size);
            } else {
                chain.writable(buffer, headerSize).writable(buffer + headerSize, size - headerSize);
            }
            int id = rx.driver().add(chain, indirect);
            assertTrue(id >= 0, "room in the RX ring");
            rxBufferOf[id] = buffer;
        }
        rx.publish();
    }

    /** Posts a chain the test builds itself (a hostile one, say) on RX. */
    void postRawRx(DriverChain raw) throws Exception {
        assertTrue(rx.driver().add(raw, false) >= 0, "room in the RX ring");
        rx.publish();
    }

    /**
     * Transmits one frame: a header descriptor, then the packet. Its buffer is the one the frame
     * {@link #QUEUE_SIZE} before used, so that frame must have come back first (the device
     * returns TX chains in order): with more frames outstanding than the ring holds (a port that
     * makes TX wait), writing at once would change a frame the device has yet to read.
     */
    void send(byte[] header, byte[] packet) throws Exception {
        long frame = txSlot++;
        if (frame >= QUEUE_SIZE) {
            awaitTxReturned((int) (frame - QUEUE_SIZE + 1));
        }
        long buffer = TX_BUFFERS + (frame % QUEUE_SIZE) * TX_SLOT;
        write(buffer, header);
        write(buffer + header.length, packet);
        chain.clear().readable(buffer, header.length);
        if (packet.length > 0) {
            chain.readable(buffer + header.length, packet.length);
        }
        sendRaw(chain);
    }

    /** Transmits a chain the test builds itself, waiting for room in the ring as a driver does. */
    void sendRaw(DriverChain raw) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000L;
        reclaimTx();
        while (tx.driver().add(raw, indirect) < 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no room in the TX ring for " + TIMEOUT_MS + " ms");
            }
            Thread.sleep(1);
            reclaimTx();
        }
        tx.publish();
    }

    /** A plain header: no offload asked. */
    byte[] plainHeader() {
        return new byte[headerSize];
    }

    private void write(long gpa, byte[] bytes) {
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, memory.bytes(gpa, bytes.length), 0, bytes.length);
    }

    /** The next received frame that {@code wanted} accepts; others (stray broadcasts) are skipped, 16 at most. */
    ByteBuffer receiveMatching(Predicate<ByteBuffer> wanted) throws Exception {
        for (int skipped = 0; skipped < 16; skipped++) {
            ByteBuffer frame = ByteBuffer.wrap(receive().packet());
            if (wanted.test(frame)) {
                return frame;
            }
        }
        throw new AssertionError("16 frames came, none the one expected");
    }

    /** The next received frame, waiting for the RX interrupt up to 5 s. */
    Received receive() throws Exception {
        int first = takeUsed();
        int length = rx.driver().usedLength();
        byte[] firstBytes = memory.bytes(rxBufferOf[first], length).toArray(ValueLayout.JAVA_BYTE);
        int buffers = headerSize == VirtioNetHeader.SIZE
                ? MemorySegment.ofArray(firstBytes).get(VirtioNetHeader.LE16, VirtioNetHeader.NUM_BUFFERS_OFFSET)
                : 1;
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write(firstBytes);
        for (int i = 1; i < buffers; i++) {
            int id = takeUsed();
            frame.write(memory.bytes(rxBufferOf[id], rx.driver().usedLength()).toArray(ValueLayout.JAVA_BYTE));
        }
        byte[] all = frame.toByteArray();
        byte[] header = java.util.Arrays.copyOf(all, headerSize);
        byte[] packet = java.util.Arrays.copyOfRange(all, headerSize, all.length);
        if (!mergeable && headerSize == VirtioNetHeader.SIZE) {
            assertEquals(1, buffers, "num_buffers without MRG_RXBUF");
        }
        return new Received(header, packet, buffers);
    }

    /** The next used RX chain's id and length, or -1 when none came within {@code waitMs}. */
    int takeUsedRx(int waitMs) throws Exception {
        long deadline = System.nanoTime() + waitMs * 1_000_000L;
        while (true) {
            int id = rx.driver().takeUsed();
            if (id >= 0 || rx.driver().enableInterrupts() && (id = rx.driver().takeUsed()) >= 0) {
                return id;
            }
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0 || interrupts.wait(ready, (int) left) == 0) {
                return -1;
            }
            rx.call().read();
        }
    }

    int lastRxLength() {
        return rx.driver().usedLength();
    }

    private int takeUsed() throws Exception {
        int id = takeUsedRx(TIMEOUT_MS);
        if (id < 0) {
            throw new AssertionError("no RX buffer came back within " + TIMEOUT_MS + " ms");
        }
        return id;
    }

    /** Takes back the TX chains the device returned; each must come back with nothing written. */
    private void reclaimTx() {
        while (tx.driver().takeUsed() >= 0) {
            assertEquals(0, tx.driver().usedLength(), "a TX chain comes back with nothing written");
            txReturned++;
        }
    }

    /** Waits until {@code count} TX chains have come back since the driver started. */
    void awaitTxReturned(int count) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000L;
        reclaimTx();
        while (txReturned < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(txReturned + " of " + count + " TX chains came back within " + TIMEOUT_MS
                        + " ms");
            }
            Thread.sleep(1);
            reclaimTx();
        }
    }

    /** Posts receive buffers of {@code size} bytes until the RX ring is full. */
    void fillRx(int size) throws Exception {
        int perChain = mergeable || indirect ? 1 : 2;
        postRx(rx.driver().freeDescriptors() / perChain, size);
    }

    /** Stops both rings with GET_VRING_BASE, as QEMU does before it disconnects cleanly. */
    void stopRings() throws Exception {
        frontend.getVringBase(0);
        frontend.getVringBase(1);
    }

    /** The protocol features the back-end agreed to. */
    long protocolFeatures() {
        return protocolFeatures;
    }

    /**
     * SEND_RARP as QEMU sends it after a migration (hw/virtio/vhost-user.c,
     * vhost_user_migration_done): the MAC in the first six bytes of the u64, no reply asked for.
     */
    void sendRarp(byte[] mac) throws Exception {
        MemorySegment payload = Arena.ofAuto().allocate(Long.BYTES);
        MemorySegment.copy(mac, 0, payload, ValueLayout.JAVA_BYTE, 0, 6);
        frontend.send(dev.lowmem.virtio.vhostuser.VhostUserRequest.SEND_RARP.code(),
                dev.lowmem.virtio.vhostuser.VhostUserHeader.VERSION, payload);
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
