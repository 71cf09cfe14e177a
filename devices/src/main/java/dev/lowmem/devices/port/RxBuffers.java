package dev.lowmem.devices.port;

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
}
