package dev.lowmem.devices.net;

import dev.lowmem.devices.port.PortTransmitter;
import dev.lowmem.devices.port.TxFrame;
import dev.lowmem.devices.wire.VirtioNetHeader;
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
 * The guest-to-port half of a queue pair: pops the guest's TX chains, checks each frame's header
 * on a copy, and hands the port the header copy plus the packet where it lies in guest memory
 * (one {@code writev} for a TAP). A port that is full gets the chain back into the ring, and TX
 * waits for the port instead of dropping. Worker thread only.
 */
final class TransmitPath {
    private final PortTransmitter port;
    private final PacketCapture capture;
    private final QueuePairCounters counters;
    private final QueueWarnings warnings;
    private final MemorySegment headerScratch;
    private final IovecArray iovecs;
    private DescriptorChain chain;
    private TxFrame frame;
    private TxHeaderCheck headerCheck;
    private int headerSize;
    private boolean portFull;
    /** Chains given back since the last {@link #interruptIfAsked}: whether the driver may be owed an interrupt. */
    private boolean gaveBack;

    TransmitPath(PortTransmitter port, QueuePairCounters counters, QueueWarnings warnings, PacketCapture capture, Arena arena) {
        this.port = port;
        this.capture = capture;
        this.counters = counters;
        this.warnings = warnings;
        this.headerScratch = arena.allocate(VirtioNetHeader.SIZE, Long.BYTES);
        this.iovecs = new IovecArray(arena, IovecArray.IOV_MAX);
    }

    /** The driver's features; before the queue runs. */
    void configure(long features) {
        headerSize = NetFeatures.headerSize(features);
        headerCheck = new TxHeaderCheck(features);
        frame = new TxFrame(headerScratch.asSlice(0, headerSize), iovecs);
    }

    /** Whether the last burst stopped because the port could take no more. */
    boolean portFull() {
        return portFull;
    }

    /**
     * Moves up to {@code burst} frames; inside the queue's {@link ActiveQueue#tryEnter()}.
     *
     * @return the frames the port took
     */
    int burst(ActiveQueue tx, int burst) throws NativeIoException {
        DeviceQueue rings = tx.rings();
        if (chain == null) {
            chain = rings.newChain();
        }
        portFull = false;
        int sent = 0;
        while (sent < burst && rings.pop(chain)) {
            if (chain.error() != null) {
                warnings.malformedChain(chain);
                drop(rings, NetCounter.TX_DROP_MALFORMED_CHAIN);
                continue;
            }
            NetCounter refused = prepare();
            if (refused != null) {
                warnings.dropped(refused, "chain %d, %d bytes", chain.head(), chain.readableLength());
                drop(rings, refused);
                continue;
            }
            boolean taken;
            try {
                taken = port.transmit(frame);
            } catch (IOException e) {
                warnings.dropped(NetCounter.TX_DROP_PORT_ERROR, e.getMessage());
                drop(rings, NetCounter.TX_DROP_PORT_ERROR);
                continue;
            }
            if (!taken) {
                rings.unpop(chain);
                counters.increment(NetCounter.TX_PORT_FULL);
                portFull = true;
                break;
            }
            capture.transmitted(frame);
            rings.pushUsed(chain, 0);
            gaveBack = true;
            counters.increment(NetCounter.TX_FRAMES);
            counters.add(NetCounter.TX_BYTES, frame.packetLength());
            sent++;
        }
        rings.publishUsed();
        return sent;
    }

    /** Whether chains were given back since the driver was last interrupted for them. */
    boolean gaveBack() {
        return gaveBack;
    }

    /**
     * Interrupts the driver for the chains {@link #burst} gave back, if it asked; inside the
     * queue's {@link ActiveQueue#tryEnter()}.
     */
    boolean interruptIfAsked(ActiveQueue tx) throws NativeIoException {
        gaveBack = false;
        if (tx.rings().needsInterrupt()) {
            tx.interruptDriver();
            counters.increment(NetCounter.TX_INTERRUPTS);
            return true;
        }
        return false;
    }

    /**
     * Copies the header out of guest memory, checks it, and lays out the frame's gather list:
     * the copy, then the packet's pieces after the guest's header bytes.
     *
     * @return null when the frame may go, otherwise why not
     */
    private NetCounter prepare() {
        long packetLength = chain.readableLength() - headerSize;
        ScatterList buffers = chain.buffers();
        if (packetLength < 0) {
            return NetCounter.TX_DROP_SHORT_FRAME;
        }
        MemorySegment header = frame.header();
        buffers.copyTo(0, 0, header);
        NetCounter refused = headerCheck.check(header, packetLength);
        if (refused != null) {
            return refused;
        }
        iovecs.clear();
        iovecs.add(header);
        long skip = headerSize;
        for (int piece = 0; piece < chain.firstWritablePiece(); piece++) {
            long length = buffers.length(piece);
            if (skip >= length) {
                skip -= length;
                continue;
            }
            if (!iovecs.add(buffers.address(piece) + skip, length - skip)) {
                // The header copy takes one iovec more than the chain's pieces, which a chain at the
                // piece limit does not leave.
                return NetCounter.TX_DROP_OVERSIZED;
            }
            skip = 0;
        }
        frame.wrap(buffers, headerSize, packetLength);
        return null;
    }

    private void drop(DeviceQueue rings, NetCounter reason) {
        rings.pushUsed(chain, 0);
        gaveBack = true;
        counters.increment(reason);
    }
}
