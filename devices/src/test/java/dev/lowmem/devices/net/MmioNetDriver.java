package dev.lowmem.devices.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.wire.VirtioNetConfig;
import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.mmio.DeviceStatus;
import dev.lowmem.virtio.mmio.VirtioMmio;
import dev.lowmem.virtio.queue.DriverChain;
import dev.lowmem.virtio.queue.DriverQueue;
import dev.lowmem.virtio.queue.IndirectTables;
import dev.lowmem.virtio.queue.QueueConfig;
import dev.lowmem.virtio.queue.QueueLayout;
import dev.lowmem.virtio.queue.RingAddresses;
import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.memory.Translation;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A guest's virtio-net driver for one queue pair on a virtio-mmio device, in the caller's thread:
 * it brings the device up with the register accesses Linux's virtio_mmio and virtio_net make, in
 * their order, then posts RX buffers and transmits frames on our driver-side rings in guest
 * memory, notifying through QueueNotify and taking interrupts through InterruptStatus/ACK.
 * Nothing here waits: what the device has not done yet is simply not there.
 */
final class MmioNetDriver {
    static final int RX = 0;
    static final int TX = 1;
    /** Each pair's share of guest memory from the driver's base: rings, then TX and RX buffer slots. */
    private static final long PAIR_MEMORY = 8L << 20;
    /** Guest memory the driver needs from its base: two pairs' shares. */
    static final long MEMORY_NEEDED = 2 * PAIR_MEMORY;
    private static final long RX_RINGS = 0x1000;
    private static final long TX_RINGS = 0x10000;
    private static final long CONTROL_RINGS = 0x20000;
    private static final long COMMANDS = 0x30000;
    private static final long TX_BUFFERS = 1L << 20;
    private static final long RX_BUFFERS = 4L << 20;
    private static final long SLOT = 8 << 10;

    // Register offsets (virtio 1.2, 4.2.2), as a guest driver knows them.
    private static final int DEVICE_FEATURES = 0x010;
    private static final int DEVICE_FEATURES_SEL = 0x014;
    private static final int DRIVER_FEATURES = 0x020;
    private static final int DRIVER_FEATURES_SEL = 0x024;
    private static final int QUEUE_SEL = 0x030;
    private static final int QUEUE_NUM_MAX = 0x034;
    private static final int QUEUE_NUM = 0x038;
    private static final int QUEUE_READY = 0x044;
    private static final int QUEUE_NOTIFY = 0x050;
    private static final int INTERRUPT_STATUS = 0x060;
    private static final int INTERRUPT_ACK = 0x064;
    private static final int STATUS = 0x070;
    private static final int QUEUE_DESC_LOW = 0x080;
    private static final int CONFIG_GENERATION = 0x0fc;
    private static final int CONFIG = 0x100;

    /** One frame as the guest received it. */
    record Received(byte[] header, byte[] packet) {
    }

    private final VirtioMmio mmio;
    private final GuestMemory memory;
    private final long base;
    /** By the device's queue index. */
    private DriverQueue[] queues;
    /** Each pair's RX buffer by chain id. */
    private final long[][] rxBufferOf = new long[2][VirtioMmio.DEFAULT_MAX_QUEUE_SIZE];
    private final long[] rxSlot = new long[2];
    private final long[] txSlot = new long[2];
    private final DriverChain chain = new DriverChain(4);
    private int headerSize;
    private int controlQueue = -1;

    MmioNetDriver(VirtioMmio mmio, GuestMemory memory, long base) {
        this.mmio = mmio;
        this.memory = memory;
        this.base = base;
    }

    /**
     * Linux's order: reset (virtio_reset_device), ACKNOWLEDGE and DRIVER (virtio_add_status reads
     * the status and writes it back with the bit added), the device's features high half first
     * (vm_get_features), ours high half first (vm_finalize_features), FEATURES_OK and a read to
     * see it kept, the config fields the driver reads at probe, each queue (vm_setup_vq: select,
     * check not ready, QueueNumMax, QueueNum, the three addresses low then high, ready), and
     * DRIVER_OK (virtio_device_ready).
     *
     * @return the features taken: {@code wanted} and offered
     */
    long bringUp(long wanted) {
        reset();
        addStatus(DeviceStatus.ACKNOWLEDGE);
        addStatus(DeviceStatus.DRIVER);

        write(DEVICE_FEATURES_SEL, 1);
        long offered = Integer.toUnsignedLong(read(DEVICE_FEATURES)) << 32;
        write(DEVICE_FEATURES_SEL, 0);
        offered |= Integer.toUnsignedLong(read(DEVICE_FEATURES));
        long features = wanted & offered;
        write(DRIVER_FEATURES_SEL, 1);
        write(DRIVER_FEATURES, (int) (features >>> 32));
        write(DRIVER_FEATURES_SEL, 0);
        write(DRIVER_FEATURES, (int) features);
        addStatus(DeviceStatus.FEATURES_OK);
        assertTrue((read(STATUS) & DeviceStatus.FEATURES_OK) != 0, "the device kept FEATURES_OK: " + mmio.lastError());
        headerSize = NetFeatures.headerSize(features);

        // Linux reads max_virtqueue_pairs at probe and sets up every pair, then the control queue after them.
        int pairs = Feature.NET_MQ.in(features) ? configShort(VirtioNetConfig.MAX_VIRTQUEUE_PAIRS_OFFSET) : 1;
        assertTrue(pairs <= rxBufferOf.length, "this driver runs " + rxBufferOf.length + " pairs at most");
        queues = new DriverQueue[2 * pairs + 1];
        for (int pair = 0; pair < pairs; pair++) {
            setUpQueue(QueuePair.rxQueue(pair), features, pairBase(pair) + RX_RINGS);
            setUpQueue(QueuePair.txQueue(pair), features, pairBase(pair) + TX_RINGS);
        }
        if (Feature.NET_CTRL_VQ.in(features)) {
            controlQueue = 2 * pairs;
            setUpQueue(controlQueue, features, base + CONTROL_RINGS);
        }
        addStatus(DeviceStatus.DRIVER_OK);
        return features;
    }

    /** Resets the device as Linux's vm_reset does: Status 0, read back until it says 0. */
    void reset() {
        write(STATUS, 0);
        assertEquals(0, read(STATUS), "the reset took");
    }

    private void addStatus(int bit) {
        write(STATUS, read(STATUS) | bit);
    }

    private void setUpQueue(int index, long features, long rings) {
        write(QUEUE_SEL, index);
        assertEquals(0, read(QUEUE_READY), "queue " + index + " is not set up yet");
        int size = read(QUEUE_NUM_MAX);
        assertTrue(size > 0, "the device has queue " + index);
        RingAddresses addresses = RingAddresses.placeFrom(rings, QueueLayout.of(features), size);
        queues[index] = DriverQueue.create(QueueConfig.of(features, size, addresses), memory::translate,
                IndirectTables.none());
        write(QUEUE_NUM, size);
        long[] areas = {addresses.descArea(), addresses.driverArea(), addresses.deviceArea()};
        for (int area = 0; area < areas.length; area++) {
            write(QUEUE_DESC_LOW + 0x10 * area, (int) areas[area]);
            write(QUEUE_DESC_LOW + 0x10 * area + 4, (int) (areas[area] >>> 32));
        }
        write(QUEUE_READY, 1);
        assertEquals(1, read(QUEUE_READY), "queue " + index + " ready: " + mmio.lastError());
    }

    /** The MAC from the config space, a byte at a time between two generation reads, as virtio_cread_bytes does. */
    byte[] mac() {
        byte[] mac = new byte[6];
        int generation;
        do {
            generation = read(CONFIG_GENERATION);
            for (int i = 0; i < mac.length; i++) {
                mac[i] = (byte) mmio.read(CONFIG + i, 1);
            }
        } while (generation != read(CONFIG_GENERATION));
        return mac;
    }

    /** A config field of 2 bytes (status, max_virtqueue_pairs, mtu). */
    int configShort(int offset) {
        return mmio.read(CONFIG + offset, 2);
    }

    int headerSize() {
        return headerSize;
    }

    GuestMemory memory() {
        return memory;
    }

    byte[] plainHeader() {
        return new byte[headerSize];
    }

    private long pairBase(int pair) {
        return base + pair * PAIR_MEMORY;
    }

    /** The control queue's index: after every pair's (virtio 1.2, 5.1.2). */
    int controlQueue() {
        return controlQueue;
    }

    /** Posts {@code count} receive buffers of {@code size} bytes on pair 0, one descriptor each (mergeable buffers). */
    void postRx(int count, int size) {
        postRx(0, count, size);
    }

    void postRx(int pair, int count, int size) {
        int queue = QueuePair.rxQueue(pair);
        for (int i = 0; i < count; i++) {
            long buffer = pairBase(pair) + RX_BUFFERS + (rxSlot[pair]++ % rxBufferOf[pair].length) * SLOT;
            int id = queues[queue].add(chain.clear().writable(buffer, size), false);
            assertTrue(id >= 0, "room in the RX ring");
            rxBufferOf[pair][id] = buffer;
        }
        publish(queue);
    }

    /** Posts a chain the test builds itself (a hostile one) on RX. */
    void postRawRx(DriverChain raw) {
        assertTrue(queues[RX].add(raw, false) >= 0, "room in the RX ring");
        publish(RX);
    }

    /** Transmits a frame on pair 0 as a header descriptor and a packet descriptor. */
    void send(byte[] header, byte[] packet) {
        send(0, header, packet);
    }

    void send(int pair, byte[] header, byte[] packet) {
        long buffer = pairBase(pair) + TX_BUFFERS + (txSlot[pair]++ % rxBufferOf[pair].length) * SLOT;
        bytes(buffer, header.length).copyFrom(MemorySegment.ofArray(header));
        chain.clear().readable(buffer, header.length);
        if (packet.length > 0) {
            bytes(buffer + header.length, packet.length).copyFrom(MemorySegment.ofArray(packet));
            chain.readable(buffer + header.length, packet.length);
        }
        postRaw(QueuePair.txQueue(pair), chain);
    }

    /** Transmits a chain the test builds itself. */
    void sendRaw(DriverChain raw) {
        assertTrue(queues[TX].add(raw, false) >= 0, "room in the TX ring");
        publish(TX);
    }

    private void publish(int queue) {
        if (queues[queue].publish()) {
            write(QUEUE_NOTIFY, queue);
        }
    }

    /**
     * Posts a control command (class, code, data) with its ack byte after it, as Linux's
     * virtnet_send_command does, and notifies.
     */
    void command(int commandClass, int code, byte[] data) {
        MemorySegment bytes = bytes(base + COMMANDS, 2 + data.length + 1);
        bytes.set(ValueLayout.JAVA_BYTE, 0, (byte) commandClass);
        bytes.set(ValueLayout.JAVA_BYTE, 1, (byte) code);
        bytes.asSlice(2, data.length).copyFrom(MemorySegment.ofArray(data));
        bytes.set(ValueLayout.JAVA_BYTE, 2 + data.length, (byte) 0x7f);
        postRaw(controlQueue, new DriverChain(2).readable(base + COMMANDS, 2 + data.length)
                .writable(base + COMMANDS + 2 + data.length, 1));
    }

    /** The ack the device wrote for the last command, once it came back; -1 while it has not. */
    int ack(int dataLength) {
        if (takeUsed(controlQueue) < 0) {
            return -1;
        }
        assertEquals(1, usedLength(controlQueue), "the ack byte written");
        return bytes(base + COMMANDS + 2 + dataLength, 1).get(ValueLayout.JAVA_BYTE, 0);
    }

    /** Posts a chain the test builds itself on {@code queue}. */
    void postRaw(int queue, DriverChain raw) {
        assertTrue(queues[queue].add(raw, false) >= 0, "room in queue " + queue);
        publish(queue);
    }

    /** The next used chain of {@code queue}, or -1; its length is {@link #usedLength(int)}. */
    int takeUsed(int queue) {
        return queues[queue].takeUsed();
    }

    int usedLength(int queue) {
        return queues[queue].usedLength();
    }

    /**
     * Asks for an interrupt at the next used chain of {@code queue}, as a driver does before it
     * sleeps (virtqueue_enable_cb), and looks once more.
     *
     * @return true when used chains arrived meanwhile: take them instead of sleeping
     */
    boolean enableInterrupts(int queue) {
        return queues[queue].enableInterrupts();
    }

    /** Breaks the TX ring as a hostile guest can: its avail idx runs more than a ring ahead, then it notifies. */
    void breakTxRing(long txAvailIdx) {
        MemorySegment index = bytes(txAvailIdx, Short.BYTES);
        index.set(VirtioNetHeader.LE16, 0, (short) (index.get(VirtioNetHeader.LE16, 0) + queues[TX].size() + 1));
        write(QUEUE_NOTIFY, TX);
    }

    /** Where the TX ring's avail idx is: after its flags, in the driver area placed from the TX rings' base. */
    long txAvailIdx(long features) {
        return RingAddresses.placeFrom(base + TX_RINGS, QueueLayout.of(features), queues[TX].size()).driverArea()
                + Short.BYTES;
    }

    /** The next frame received on pair 0, which must fit one buffer, or null when none came. */
    Received receive() {
        return receive(0);
    }

    Received receive(int pair) {
        int queue = QueuePair.rxQueue(pair);
        int id = takeUsed(queue);
        if (id < 0) {
            return null;
        }
        byte[] all = bytes(rxBufferOf[pair][id], usedLength(queue)).toArray(ValueLayout.JAVA_BYTE);
        return new Received(Arrays.copyOf(all, headerSize), Arrays.copyOfRange(all, headerSize, all.length));
    }

    /** The guest's interrupt handler (vm_interrupt): reads InterruptStatus and acknowledges what it read. */
    int takeInterrupt() {
        int status = read(INTERRUPT_STATUS);
        write(INTERRUPT_ACK, status);
        return status;
    }

    /** Guest memory at a guest-physical address. */
    MemorySegment bytes(long gpa, long length) {
        return switch (memory.translate(gpa, length)) {
            case Translation.Mapped(MemorySegment segment) -> segment;
            case Translation.Fault fault -> throw new IllegalArgumentException(fault.message());
        };
    }

    private int read(int offset) {
        return mmio.read(offset, 4);
    }

    private void write(int offset, int value) {
        mmio.write(offset, 4, value);
    }

    /** Features a Linux guest's virtio_net asks for when the device offers them (a subset). */
    static long linuxFeatures() {
        return dev.lowmem.virtio.Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX, Feature.NET_MRG_RXBUF,
                Feature.NET_MAC, Feature.NET_STATUS, Feature.NET_MTU, Feature.NET_CSUM, Feature.NET_GUEST_CSUM,
                Feature.NET_CTRL_VQ, Feature.NET_CTRL_RX, Feature.NET_CTRL_VLAN, Feature.NET_CTRL_RX_EXTRA,
                Feature.NET_CTRL_MAC_ADDR);
    }
}
