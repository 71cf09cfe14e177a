package dev.lowmem.devices.port;

import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.vmm.core.memory.ScatterList;
import dev.lowmem.vmm.core.nativeio.IovecArray;
import java.lang.foreign.MemorySegment;

/**
 * The guest's receive buffers a port writes one frame into, header first: the writable buffers
 * of one chain, or of several with mergeable RX buffers. A TAP reads into {@link #iovecs()} with
 * one {@code readv}; a port that keeps frames copies with {@link #copyFrom}. One object per queue,
 * refilled by the worker for every frame.
 */
public final class RxBuffers {
    private final ScatterList pieces;
    private final IovecArray iovecs;

    public RxBuffers(ScatterList pieces, IovecArray iovecs) {
        this.pieces = pieces;
        this.iovecs = iovecs;
    }

    /** Bytes the buffers hold. */
    public long capacity() {
        return pieces.totalLength();
    }

    /** The buffers as one scatter list: valid until the port call returns. */
    public IovecArray iovecs() {
        return iovecs;
    }

    /**
     * Copies a whole frame, header first, from {@code length} bytes of {@code source} at
     * {@code offset} into the buffers.
     *
     * @return the frame's length; more than {@link #capacity()} when it was cut short
     */
    public long copyFrom(MemorySegment source, long offset, long length) {
        pieces.copyFrom(source, offset, length, 0, 0);
        return length;
    }

    /**
     * Copies one part of a frame kept in several buffers: {@code length} bytes of {@code source}
     * at {@code offset}, to {@code position} bytes into the buffers (what does not fit is cut).
     */
    public void copyFrom(MemorySegment source, long offset, long length, long position) {
        pieces.copyFrom(source, offset, length, 0, position);
    }

    /**
     * Copies a frame another guest transmits, header first, in a header of {@code headerSize}
     * bytes: the fields both sizes share come from the sender's header; {@code num_buffers}, the
     * field a 12-byte header adds, is the receiving device's to write. Straight from the sender's
     * buffers into these, one copy; the caller has made sure the whole frame fits.
     */
    public void copyFrom(TxFrame frame, int headerSize) {
        pieces.copyFrom(frame.header(), 0, VirtioNetHeader.LEGACY_SIZE, 0, 0);
        frame.copyPacketTo(pieces, headerSize);
    }
}
