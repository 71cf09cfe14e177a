package dev.lowmem.virtio.vhostuser;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.virtio.device.ActiveQueue;
import dev.lowmem.virtio.device.VirtioDevice;
import dev.lowmem.virtio.queue.DescriptorChain;
import dev.lowmem.virtio.queue.DeviceQueue;
import dev.lowmem.vmm.core.event.Epoll;
import dev.lowmem.vmm.core.event.EpollEvents;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A small device for protocol tests: queue 1 (TX, as in virtio-net) is echoed into queue 0 (RX),
 * each TX chain's readable bytes copied into the next RX chain's writable buffers. One worker
 * thread, woken by the kicks through epoll, holding both queues' access locks for each burst as a
 * real device worker does.
 */
final class EchoDevice implements VirtioDevice, AutoCloseable {
    static final int RX = 0;
    static final int TX = 1;
    static final long FEATURES = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX, Feature.RING_INDIRECT_DESC,
            Feature.RING_PACKED, Feature.NET_MAC);
    /** A 6-byte MAC the driver may write, then 2 read-only bytes. */
    static final int CONFIG_SIZE = 8;
    private static final int WRITABLE_CONFIG = 6;
    private static final int BURST = 32;
    private static final long WAKEUP_TOKEN = -1;

    private final AtomicReferenceArray<ActiveQueue> queues = new AtomicReferenceArray<>(2);
    private final byte[] config = {0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x7f, 0x7f};
    private final Arena arena = Arena.ofShared();
    private final Epoll epoll;
    private final EpollEvents ready = new EpollEvents(arena, 8);
    private final EventFd wakeup;
    private final Thread worker;
    private final MemorySegment frame = arena.allocate(64 * 1024);
    private final AtomicLong echoed = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private volatile long acked;
    /** Worker-thread scratch, made from the first queues it serves and reused. */
    private DescriptorChain txChain;
    private DescriptorChain rxChain;
    private volatile boolean running = true;

    EchoDevice() throws NativeIoException {
        epoll = Epoll.create();
        wakeup = EventFd.create();
        epoll.add(wakeup.fd(), LibC.EPOLLIN, WAKEUP_TOKEN);
        worker = Thread.ofPlatform().name("echo-device").start(this::run);
    }

    long echoed() {
        return echoed.get();
    }

    long malformed() {
        return malformed.get();
    }

    long ackedFeatures() {
        return acked;
    }

    boolean running(int index) {
        return queues.get(index) != null;
    }

    @Override
    public long deviceFeatures() {
        return FEATURES;
    }

    @Override
    public int maxQueues() {
        return 2;
    }

    @Override
    public void acknowledgeFeatures(long features) {
        acked = features;
    }

    @Override
    public byte[] readConfig(int offset, int length) {
        checkRange(offset, length);
        return Arrays.copyOfRange(config, offset, offset + length);
    }

    @Override
    public void writeConfig(int offset, byte[] data) {
        checkRange(offset, data.length);
        if (offset + data.length > WRITABLE_CONFIG) {
            throw new IllegalArgumentException("config bytes " + WRITABLE_CONFIG + ".." + CONFIG_SIZE + " are read-only");
        }
        System.arraycopy(data, 0, config, offset, data.length);
    }

    /** Compares the length with the room left, as {@code offset + length} overflows for an offset near 2^31. */
    private static void checkRange(int offset, int length) {
        if (offset < 0 || length < 0 || length > CONFIG_SIZE - offset) {
            throw new IllegalArgumentException("config range " + offset + "+" + length + " is outside "
                    + CONFIG_SIZE + " bytes");
        }
    }

    @Override
    public void startQueue(ActiveQueue queue) {
        queues.set(queue.index(), queue);
        try {
            epoll.add(queue.kick().fd(), LibC.EPOLLIN, queue.index());
            wakeup.signal();
        } catch (NativeIoException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void stopQueue(int index) {
        ActiveQueue queue = queues.getAndSet(index, null);
        try {
            epoll.remove(queue.kick().fd());
        } catch (NativeIoException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void reset() {
        acked = 0;
    }

    private void run() {
        try {
            while (running) {
                epoll.wait(ready, -1);
                wakeup.read();
                echo();
            }
        } catch (NativeIoException | RuntimeException e) {
            if (running) {
                throw new IllegalStateException("echo worker failed", e);
            }
        }
    }

    /** Bursts until TX is empty or RX has no room, then asks for the kick that will bring more. */
    private void echo() throws NativeIoException {
        ActiveQueue tx = queues.get(TX);
        ActiveQueue rx = queues.get(RX);
        if (tx == null || rx == null || !tx.tryEnter()) {
            return;
        }
        try {
            if (!rx.tryEnter()) {
                return;
            }
            try {
                tx.drainKick();
                rx.drainKick();
                if (txChain == null) {
                    txChain = tx.rings().newChain();
                    rxChain = rx.rings().newChain();
                }
                while (burst(tx, rx)) {
                    // keep going while there was a full burst or more arrived as we re-enabled kicks
                }
            } finally {
                rx.exit();
            }
        } finally {
            tx.exit();
        }
    }

    private boolean burst(ActiveQueue tx, ActiveQueue rx) throws NativeIoException {
        DeviceQueue txRings = tx.rings();
        DeviceQueue rxRings = rx.rings();
        int moved = 0;
        boolean rxEmpty = false;
        while (moved < BURST && txRings.pop(txChain)) {
            if (txChain.error() != null) {
                txRings.pushUsed(txChain, 0);
                malformed.incrementAndGet();
                continue;
            }
            if (!rxRings.pop(rxChain)) {
                txRings.unpop(txChain);
                rxEmpty = true;
                break;
            }
            if (rxChain.error() != null) {
                rxRings.pushUsed(rxChain, 0);
                malformed.incrementAndGet();
                txRings.unpop(txChain);
                continue;
            }
            int length = (int) Math.min(txChain.readableLength(), rxChain.writableLength());
            MemorySegment bytes = frame.asSlice(0, length);
            txChain.buffers().copyTo(0, 0, bytes);
            rxChain.buffers().copyFrom(bytes, rxChain.firstWritablePiece(), 0);
            txRings.pushUsed(txChain, 0);
            rxRings.pushUsed(rxChain, length);
            echoed.incrementAndGet();
            moved++;
        }
        txRings.publishUsed();
        rxRings.publishUsed();
        if (txRings.needsInterrupt()) {
            tx.interruptDriver();
        }
        if (rxRings.needsInterrupt()) {
            rx.interruptDriver();
        }
        if (moved == BURST) {
            return true;
        }
        return rxEmpty ? rxRings.enableNotifications() : txRings.enableNotifications();
    }

    @Override
    public void close() throws InterruptedException, NativeIoException {
        running = false;
        wakeup.signal();
        worker.join();
        epoll.close();
        wakeup.close();
        arena.close();
    }
}
