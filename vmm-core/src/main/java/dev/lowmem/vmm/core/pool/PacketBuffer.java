package dev.lowmem.vmm.core.pool;

import java.lang.foreign.MemorySegment;

/**
 * A fixed slice of a slab: room for one frame. One object per buffer, made with its slab and
 * reused for every take, so the datapath allocates nothing per packet.
 *
 * <p>A buffer is out from {@link PoolUser#take()} until {@link #release()}; its owner is the user
 * that took it last, and a release finds its way back to that user's cache.
 */
public final class PacketBuffer {
    private final MemorySegment segment;
    private final long address;
    private final Slab slab;
    /** The user that took it last: written by that user's thread, read by whoever releases it. */
    private PoolUser owner;
    /** Between take and release; catches a second release made after the first. */
    private boolean out;
    /** The next buffer in the return stack this one is on; meaningless off a stack. */
    PacketBuffer next;

    PacketBuffer(MemorySegment segment, Slab slab) {
        this.segment = segment;
        this.address = segment.address();
        this.slab = slab;
    }

    /** The buffer's bytes, bounds-checked; throws once the pool has freed its slab. */
    public MemorySegment segment() {
        return segment;
    }

    /** The first byte's native address, for an iovec; valid while the pool holds the slab. */
    public long address() {
        return address;
    }

    public int capacity() {
        return (int) segment.byteSize();
    }

    /**
     * Gives the buffer back, from any thread: on its owner's thread straight into the owner's
     * cache, from another thread onto the owner's return queue (no lock, no allocation), which
     * the owner drains at the end of its poll cycle.
     *
     * @throws IllegalStateException when the buffer is not out (released twice in sequence; two
     *                               threads racing to release it are not caught)
     */
    public void release() {
        if (!out) {
            throw new IllegalStateException("buffer at 0x" + Long.toHexString(address)
                    + " released while not taken (released twice?)");
        }
        out = false;
        owner.giveBack(this);
    }

    /** Marks the buffer out to {@code taker}; called by the taker's thread. */
    void takenBy(PoolUser taker) {
        owner = taker;
        out = true;
    }

    Slab slab() {
        return slab;
    }
}
