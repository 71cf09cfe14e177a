package dev.lowmem.devices.net;

import dev.lowmem.devices.port.PortReceiver;
import dev.lowmem.devices.port.RxBuffers;
import dev.lowmem.devices.port.TxFrame;
import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.device.ActiveQueue;
import dev.lowmem.virtio.queue.DescriptorChain;
import dev.lowmem.virtio.queue.DeviceQueue;
import dev.lowmem.vmm.core.memory.ScatterList;
import dev.lowmem.vmm.core.nativeio.IovecArray;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The port-to-guest half of a queue pair. The port writes each frame straight into guest buffers
 * (one {@code readv} for a TAP), so before it reads, the device must offer room for the largest
 * frame it may receive: a window of popped chains, one chain without mergeable buffers, as many
 * as the largest frame needs with them. After the frame, the chains it filled go to the used
 * ring (with {@code num_buffers} in the first) and the rest stay in the window for the next
 * frame; at the end of a burst they go back to the ring, so the control plane never finds a
 * chain popped and not returned.
 *
 * <p>When the guest has posted too little room, RX is starved: it moves what the port has into
 * its {@link RxBacklog} while that has room, the packet pool gives buffers and no flood filled
 * it, then stops reading the port (the port holds the rest, a TAP in its kernel queue) and waits
 * for the guest's kick.
 *
 * <p>The queue pair's worker runs it, and so may a switch port's sender ({@link #receiveDirect}),
 * always inside the queue's access lock, which orders one's changes before the other's reads;
 * its starved flag changes only on the worker.
 */
final class ReceivePath {
    /** The most chains one frame may fill: 64 KiB frames over buffers of 1 KiB or more. */
    static final int WINDOW = 64;

    private final RxBacklog port;
    private final PacketCapture capture;
    private final NetControl control;
    private final QueuePairCounters counters;
    private final QueueWarnings warnings;
    private final int mtu;
    private final DescriptorChain[] window = new DescriptorChain[WINDOW];
    private final DescriptorChain[] filled = new DescriptorChain[WINDOW];
    private final ScatterList pieces = new ScatterList(IovecArray.IOV_MAX);
    private final IovecArray iovecs;
    private final RxBuffers buffers;
    /** The first bytes of a frame, copied out for the receive filter. */
    private final MemorySegment frameHead;
    private int windowCount;
    private long windowRoom;
    private int headerSize;
    private boolean mergeable;
    private long roomWanted;
    private boolean starved;
    private long starvedSince;
    private boolean portEmpty;
    /** Whether an RX interrupt went to the driver since {@link #takeInterrupted()}. */
    private boolean interrupted;

    ReceivePath(RxBacklog port, NetControl control, QueuePairCounters counters, QueueWarnings warnings,
            PacketCapture capture, int mtu, Arena arena) {
        this.port = port;
        this.control = control;
        this.capture = capture;
        this.frameHead = arena.allocate(RxFilter.HEAD_BYTES);
        this.counters = counters;
        this.warnings = warnings;
        this.mtu = mtu;
        this.iovecs = new IovecArray(arena, IovecArray.IOV_MAX);
        this.buffers = new RxBuffers(pieces, iovecs);
    }

    /** The driver's features; before the queue runs. */
    void configure(long features) {
        headerSize = NetFeatures.headerSize(features);
        mergeable = Feature.NET_MRG_RXBUF.in(features);
        roomWanted = headerSize + NetFeatures.maxRxFrame(features, mtu);
    }

    /** Whether RX waits for the guest to post buffers. */
    boolean starved() {
        return starved;
    }

    /**
     * The RX queue stopped: a starvation under way ends here, so that its time stops running with
     * the queue, and the window forgets chains of rings that are gone (a fault mid-burst leaves some).
     */
    void stop() {
        windowCount = 0;
        windowRoom = 0;
        if (starved) {
            starved = false;
            counters.add(NetCounter.RX_STARVED_NS, System.nanoTime() - starvedSince);
        }
    }

    /** Whether RX wants the port's frames now: it has room in the guest, or in its backlog. */
    boolean wantsFrames() {
        return !starved || port.canHold();
    }

    /** Whether the last burst stopped because the port had no frame. */
    boolean portEmpty() {
        return portEmpty;
    }

    /**
     * Moves up to {@code burst} frames; inside the queue's {@link ActiveQueue#tryEnter()}.
     *
     * @return the frames written into the guest's buffers or, while it is starved, into the backlog
     */
    int burst(ActiveQueue rx, int burst) throws NativeIoException {
        DeviceQueue rings = rx.rings();
        makeWindow(rings);
        portEmpty = false;
        int received = 0;
        try {
            while (received < burst) {
                long next = port.nextFrameLength();
                if (next == 0) {
                    portEmpty = true;
                    break;
                }
                // Room for this frame when the port can tell its length, else for the largest.
                if (!fillWindow(rings, next == PortReceiver.UNKNOWN_LENGTH ? roomWanted : Math.min(next, roomWanted))) {
                    if (!starved) {
                        starved = true;
                        starvedSince = System.nanoTime();
                        counters.increment(NetCounter.RX_STARVED);
                    }
                    break;
                }
                if (starved) {
                    starved = false;
                    counters.add(NetCounter.RX_STARVED_NS, System.nanoTime() - starvedSince);
                    port.guestReceiving();
                }
                long length = receiveIntoWindow();
                if (length == 0) {
                    portEmpty = true;
                    break;
                }
                if (length > 0) {
                    deliver(rings, length);
                    received++;
                }
            }
        } finally {
            giveBackWindow(rings);
        }
        if (starved) {
            received += port.hold(roomWanted, burst - received);
        }
        publish(rx);
        return received;
    }

    /**
     * Writes one frame another thread's guest transmits straight into this guest's buffers (a
     * {@link dev.lowmem.devices.port.DirectReceiver}): inside the queue's access lock, which keeps
     * this queue's own burst out meanwhile. Not while starved, when RX waits for the guest's kick,
     * and not into too little room: then the frame waits in the port, and RX drops and counts it
     * there if it never fits.
     *
     * @return whether the frame was delivered
     */
    boolean receiveDirect(ActiveQueue rx, TxFrame frame) throws NativeIoException {
        long length = headerSize + frame.packetLength();
        if (starved || length > roomWanted) {
            return false;
        }
        DeviceQueue rings = rx.rings();
        makeWindow(rings);
        boolean delivered = false;
        try {
            if (fillWindow(rings, length)) {
                gatherWindow();
                if (buffers.capacity() >= length) {
                    buffers.copyFrom(frame, headerSize);
                    deliver(rings, length);
                    delivered = true;
                }
            }
        } finally {
            giveBackWindow(rings);
        }
        // Malformed chains fillWindow dropped are used entries too.
        publish(rx);
        return delivered;
    }

    private void makeWindow(DeviceQueue rings) {
        if (window[0] == null) {
            for (int i = 0; i < WINDOW; i++) {
                window[i] = rings.newChain();
            }
        }
    }

    private void publish(ActiveQueue rx) throws NativeIoException {
        DeviceQueue rings = rx.rings();
        rings.publishUsed();
        if (rings.needsInterrupt()) {
            rx.interruptDriver();
            counters.increment(NetCounter.RX_INTERRUPTS);
            interrupted = true;
        }
    }

    /** Whether the driver was interrupted since the last call. */
    boolean takeInterrupted() {
        boolean was = interrupted;
        interrupted = false;
        return was;
    }

    /**
     * Pops chains until the window holds {@code room} bytes, or the guest has no more.
     *
     * @return false when there is too little room to read a frame: wait for the guest
     */
    private boolean fillWindow(DeviceQueue rings, long room) {
        int most = mergeable ? WINDOW : 1;
        while (windowCount < most && windowRoom < room) {
            DescriptorChain chain = window[windowCount];
            if (!rings.pop(chain)) {
                // Short of the largest frame: read anyway only if the guest cannot post more, for
                // a ring it has filled completely will not grow.
                return windowCount > 0 && windowCount == rings.size();
            }
            if (chain.error() != null || windowCount == 0 && chain.writableLength() < headerSize) {
                if (windowCount > 0) {
                    // Returned when it reaches the front, so chains go back in the order they came.
                    rings.unpop(chain);
                    return true;
                }
                dropMalformed(rings, chain);
                continue;
            }
            windowRoom += chain.writableLength();
            windowCount++;
        }
        return windowCount > 0;
    }

    private void dropMalformed(DeviceQueue rings, DescriptorChain chain) {
        if (chain.error() != null) {
            warnings.malformedChain(chain);
        } else {
            warnings.dropped(NetCounter.RX_DROP_MALFORMED_CHAIN, "chain %d has %d writable bytes, less than the"
                    + " virtio-net header", chain.head(), chain.writableLength());
        }
        rings.pushUsed(chain, 0);
        counters.increment(NetCounter.RX_DROP_MALFORMED_CHAIN);
    }

    /**
     * Lets the port write one frame over the window's writable buffers.
     *
     * @return the frame's length; 0 when the port had none; -1 when it was dropped and counted
     */
    private long receiveIntoWindow() {
        gatherWindow();
        long length;
        try {
            length = port.receive(buffers);
        } catch (IOException e) {
            warnings.dropped(NetCounter.RX_DROP_PORT_ERROR, e.getMessage());
            counters.increment(NetCounter.RX_DROP_PORT_ERROR);
            return 0;
        }
        if (length > buffers.capacity()) {
            return dropped(NetCounter.RX_DROP_NO_ROOM, "%d-byte frame for %d bytes of buffers", length,
                    buffers.capacity());
        }
        if (length > 0 && length < headerSize) {
            return dropped(NetCounter.RX_DROP_PORT_ERROR, "the port gave a %d-byte frame, shorter than its %d-byte"
                    + " header", length, headerSize);
        }
        if (length > 0 && !wanted(length - headerSize)) {
            // The driver's choice, not a fault: counted, never logged. The chains stay for the next frame.
            counters.increment(NetCounter.RX_FILTERED);
            return -1;
        }
        return length;
    }

    /** Whether the driver's receive filter takes the frame now in the window; one volatile read when it takes all. */
    private boolean wanted(long frameLength) {
        RxFilter filter = control.filter();
        if (filter.takesEverything()) {
            return true;
        }
        pieces.copyTo(0, headerSize, frameHead, 0, Math.min(RxFilter.HEAD_BYTES, frameLength));
        return filter.accepts(frameHead, frameLength);
    }

    /** Lays the window's writable buffers end to end in {@link #buffers}, up to the iovec limit. */
    private void gatherWindow() {
        pieces.clear();
        iovecs.clear();
        for (int i = 0; i < windowCount; i++) {
            ScatterList chainBuffers = window[i].buffers();
            for (int piece = window[i].firstWritablePiece(); piece < chainBuffers.count(); piece++) {
                if (!pieces.addPieceOf(chainBuffers, piece)) {
                    return;
                }
                iovecs.add(chainBuffers.address(piece), chainBuffers.length(piece));
            }
        }
    }

    private long dropped(NetCounter reason, String detailFormat, long first, long second) {
        warnings.dropped(reason, detailFormat, first, second);
        counters.increment(reason);
        return -1;
    }

    /** Returns the chains the frame filled as used, num_buffers first, and keeps the rest for the next frame. */
    private void deliver(DeviceQueue rings, long length) {
        int used = 0;
        long covered = 0;
        while (covered < length) {
            covered += window[used++].writableLength();
        }
        if (headerSize == VirtioNetHeader.SIZE) {
            // Without MRG_RXBUF the field is there (VERSION_1) and must say 1 (virtio 1.2, 5.1.6.3.1).
            pieces.putShortLE(VirtioNetHeader.NUM_BUFFERS_OFFSET, (short) used);
        }
        capture.received(pieces, headerSize, length - headerSize);
        long left = length;
        for (int i = 0; i < used; i++) {
            DescriptorChain chain = window[i];
            int written = (int) Math.min(left, chain.writableLength());
            rings.pushUsed(chain, written);
            left -= written;
            windowRoom -= chain.writableLength();
        }
        if (used < windowCount) {
            // The chains left over move to the front; the filled ones behind them, to be popped into again.
            System.arraycopy(window, 0, filled, 0, used);
            System.arraycopy(window, used, window, 0, windowCount - used);
            System.arraycopy(filled, 0, window, windowCount - used, used);
        }
        windowCount -= used;
        counters.increment(NetCounter.RX_FRAMES);
        counters.add(NetCounter.RX_BYTES, length - headerSize);
    }

    /** Unpops what the window holds, last popped first, as the ring requires. */
    private void giveBackWindow(DeviceQueue rings) {
        for (int i = windowCount - 1; i >= 0; i--) {
            rings.unpop(window[i]);
        }
        windowCount = 0;
        windowRoom = 0;
    }
}
