package dev.lowmem.vmm.core.pool;

import java.util.Arrays;

/**
 * The pool's shared free buffers: a stack in an array, so batches move to and from the users'
 * caches with one {@code arraycopy}, and the most recently freed buffers (the ones still in some
 * CPU's cache) go out first. Not thread-safe: the pool's lock guards it.
 */
final class FreeList {
    private PacketBuffer[] buffers = new PacketBuffer[0];
    private int count;

    int count() {
        return count;
    }

    /**
     * Makes room for {@code capacity} buffers, the pool's whole holding, so no later push can
     * overflow. Called as slabs arrive, off the datapath.
     */
    void ensureCapacity(int capacity) {
        if (capacity > buffers.length) {
            buffers = Arrays.copyOf(buffers, Math.max(capacity, 2 * buffers.length));
        }
    }

    void push(PacketBuffer buffer) {
        buffers[count++] = buffer;
    }

    /** Pushes {@code length} buffers of {@code from} starting at {@code offset}. */
    void push(PacketBuffer[] from, int offset, int length) {
        System.arraycopy(from, offset, buffers, count, length);
        count += length;
    }

    /**
     * Pops up to {@code wanted} buffers into {@code to} from {@code offset} on.
     *
     * @return how many were popped: fewer than wanted when the list runs out
     */
    int pop(PacketBuffer[] to, int offset, int wanted) {
        int moved = Math.min(wanted, count);
        int from = count - moved;
        System.arraycopy(buffers, from, to, offset, moved);
        // Holds no buffer that is out: once the pool frees a slab, nothing here keeps its objects.
        Arrays.fill(buffers, from, count, null);
        count = from;
        return moved;
    }

    void clear() {
        Arrays.fill(buffers, 0, count, null);
        count = 0;
    }
}
