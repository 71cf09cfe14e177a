package dev.lowmem.virtio.queue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Index arithmetic and field access shared by every ring. Ring fields are little-endian (virtio
 * 1.x); plain fields are read with unaligned layouts so a misaligned address from the guest (an
 * indirect table) reads like any other instead of throwing, while the index fields that order
 * the two sides are accessed with acquire/release on rings whose alignment was checked when the
 * queue started.
 */
final class Ring {
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final VarHandle ORDERED_U16 = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    /** Split rings count in free-running 16-bit indices. */
    static final int SPLIT_INDEX_MODULUS = 1 << 16;

    private Ring() {
    }

    /** How far free-running index {@code a} is ahead of {@code b}, modulo 2^16. */
    static int delta(int a, int b) {
        return (a - b) & 0xFFFF;
    }

    /**
     * The spec's {@code vring_need_event(event, new, old)} over indices modulo {@code modulus}: true
     * when the other side asked to be notified at an index the entries {@code [old, new)} just
     * covered.
     */
    static boolean needEvent(int event, int newIdx, int oldIdx, int modulus) {
        return Math.floorMod(newIdx - event - 1, modulus) < Math.floorMod(newIdx - oldIdx, modulus);
    }

    static int u16(MemorySegment ring, long offset) {
        return Short.toUnsignedInt(ring.get(U16, offset));
    }

    static void putU16(MemorySegment ring, long offset, int value) {
        ring.set(U16, offset, (short) value);
    }

    /** An index the other side published with release: what it wrote before it is visible after this. */
    static int u16Acquire(MemorySegment ring, long offset) {
        return Short.toUnsignedInt((short) ORDERED_U16.getAcquire(ring, offset));
    }

    /** Publishes an index: every store made before this one is visible to a side that reads it with acquire. */
    static void putU16Release(MemorySegment ring, long offset, int value) {
        ORDERED_U16.setRelease(ring, offset, (short) value);
    }
}
