package dev.lowmem.virtio.queue;

import java.util.Arrays;

/**
 * The chains a crashed back-end left in flight, in the order to serve them again (by the counter
 * their first pop gave them, oldest first, as vhost-user's "Inflight I/O tracking" asks), and
 * which of them were popped again: shared by {@link SplitInflight} and {@link PackedInflight},
 * whose regions name a chain by its head descriptor or head entry. Filled on the control plane
 * when the queue opens; served by the worker without allocating.
 */
final class ResubmitList {
    /** Counters past this cannot come from a live back-end (2^47 pops); the low 16 bits of a key hold the head. */
    private static final long MAX_COUNTER = 1L << 47;

    private final long[] keys;
    private final int[] heads;
    private int count;
    private int next;
    /** Ring pops since resubmission began: an unpop takes these back first (chains go back last first). */
    private int ringPops;
    private long highestCounter = -1;

    ResubmitList(int size) {
        keys = new long[size];
        heads = new int[size];
    }

    /** Adds {@code head}, first popped with {@code counter}; call {@link #sort()} after the last. */
    void add(long counter, int head, String what) throws InvalidQueueException {
        if (counter < 0 || counter >= MAX_COUNTER) {
            throw new InvalidQueueException("inflight region's " + what + " " + head + " has counter " + counter);
        }
        keys[count++] = counter << 16 | head;
        highestCounter = Math.max(highestCounter, counter);
    }

    void sort() {
        Arrays.sort(keys, 0, count);
        for (int i = 0; i < count; i++) {
            heads[i] = (int) (keys[i] & 0xFFFF);
        }
    }

    int count() {
        return count;
    }

    /** The head at position {@code i} in serving order; after {@link #sort()}. */
    int head(int i) {
        return heads[i];
    }

    /** The counter the next pop gets: past every counter in flight. */
    long nextCounter() {
        return highestCounter + 1;
    }

    boolean pending() {
        return next < count;
    }

    int take() {
        return heads[next++];
    }

    /** A chain was taken from the ring itself. */
    void ringPopped() {
        if (count > 0) {
            ringPops++;
        }
    }

    /**
     * The chain popped last goes back.
     *
     * @return true when it was a resubmitted one, now first in line again; false for a ring pop
     */
    boolean unpopped() {
        if (ringPops == 0 && next > 0) {
            next--;
            return true;
        }
        if (ringPops > 0) {
            ringPops--;
        }
        return false;
    }

    /** A batch was published: once every chain was served, none can come back (only a burst gives chains back). */
    void published() {
        if (next == count) {
            count = 0;
            next = 0;
            ringPops = 0;
        }
    }
}
