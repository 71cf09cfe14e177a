package dev.lowmem.vmm.core.pool;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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

    /**
     * Takes out every buffer of up to {@code wanted} slabs that are whole here (all
     * {@code buffersPerSlab} of their buffers in the list), for the pool to free. A walk and a
     * compaction of the list: for a budget change, never for the datapath.
     *
     * @return the slabs taken out, none of whose buffers is left anywhere in the pool
     */
    List<Slab> removeWholeSlabs(int wanted, int buffersPerSlab) {
        Map<Slab, Integer> home = new IdentityHashMap<>();
        for (int i = 0; i < count; i++) {
            home.merge(buffers[i].slab(), 1, Integer::sum);
        }
        Set<Slab> removed = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Map.Entry<Slab, Integer> entry : home.entrySet()) {
            if (removed.size() < wanted && entry.getValue() == buffersPerSlab) {
                removed.add(entry.getKey());
            }
        }
        int kept = 0;
        for (int i = 0; i < count; i++) {
            if (!removed.contains(buffers[i].slab())) {
                buffers[kept++] = buffers[i];
            }
        }
        Arrays.fill(buffers, kept, count, null);
        count = kept;
        return new ArrayList<>(removed);
    }

    void clear() {
        Arrays.fill(buffers, 0, count, null);
        count = 0;
    }
}
