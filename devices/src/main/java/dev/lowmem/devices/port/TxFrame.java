package dev.lowmem.devices.port;

import dev.lowmem.vmm.core.memory.ScatterList;
import dev.lowmem.vmm.core.nativeio.IovecArray;
import java.lang.foreign.MemorySegment;

/**
 * One frame the guest transmits, as a port sees it: the {@code virtio_net_hdr} (the device's own
 * checked copy, so the guest cannot change it after the check) followed by the packet, which
 * stays in guest memory. A TAP writes {@link #iovecs()} with one {@code writev}; a port that keeps
 * frames copies them with {@link #copyTo}. One object per queue, refilled for every frame.
 */
public final class TxFrame {
    private final MemorySegment header;
    private final IovecArray iovecs;
    private ScatterList chainBuffers;
    private long packetStart;
    private long packetLength;

    /** @param header native scratch of the negotiated header size, owned by the worker */
    public TxFrame(MemorySegment header, IovecArray iovecs) {
        this.header = header;
        this.iovecs = iovecs;
    }

    /**
     * Points the frame at a chain's readable buffers; the packet starts {@code packetStart} bytes
     * in, after the guest's copy of the header. The iovecs are the caller's to fill.
     */
    public void wrap(ScatterList chainBuffers, long packetStart, long packetLength) {
        this.chainBuffers = chainBuffers;
        this.packetStart = packetStart;
        this.packetLength = packetLength;
    }

    /** The checked header; a port may read it, never write it. */
    public MemorySegment header() {
        return header;
    }

    /** The header and the packet as one gather list: valid until the port call returns. */
    public IovecArray iovecs() {
        return iovecs;
    }

    public long packetLength() {
        return packetLength;
    }

    /** The header's length and the packet's. */
    public long length() {
        return header.byteSize() + packetLength;
    }

    /**
     * Copies the header and the packet into {@code destination} at {@code offset}, where
     * {@link #length()} bytes must fit.
     */
    public void copyTo(MemorySegment destination, long offset) {
        long headerSize = header.byteSize();
        MemorySegment.copy(header, 0, destination, offset, headerSize);
        chainBuffers.copyTo(0, packetStart, destination, offset + headerSize, packetLength);
    }

    /**
     * Copies {@code length} bytes of the packet, from {@code from} bytes into it, into
     * {@code destination} at {@code offset}: a port that keeps the packet in pieces of its own
     * (the switch's pool buffers) copies it piece by piece, without the header.
     */
    public void copyPacketTo(long from, MemorySegment destination, long offset, long length) {
        chainBuffers.copyTo(0, packetStart + from, destination, offset, length);
    }

    /** Copies the packet into {@code destination} from {@code position} on: a guest's buffers into another's, one copy. */
    long copyPacketTo(ScatterList destination, long position) {
        return chainBuffers.copyTo(packetStart, destination, position, packetLength);
    }
}
