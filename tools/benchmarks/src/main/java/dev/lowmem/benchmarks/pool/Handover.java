package dev.lowmem.benchmarks.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bounded single-producer, single-consumer queue that carries buffers from the taking thread to
 * the releasing one in {@link PacketPoolBenchmark}: Lamport's ring, a release store of each index
 * and an acquire load of the other's, so that handing a buffer over costs the same, and allocates
 * nothing, whichever free list it came from.
 */
final class Handover {
    private static final int CAPACITY = 256;
    private static final int MASK = CAPACITY - 1;
    private static final VarHandle HEAD;
    private static final VarHandle TAIL;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            HEAD = lookup.findVarHandle(Handover.class, "head", long.class);
            TAIL = lookup.findVarHandle(Handover.class, "tail", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Object[] slots = new Object[CAPACITY];
    /** The consumer's: the next slot to take. */
    @SuppressWarnings("unused") // through HEAD
    private long head;
    /** The producer's: the next slot to fill. */
    @SuppressWarnings("unused") // through TAIL
    private long tail;

    /** The producer: false when the ring is full. */
    boolean offer(Object buffer) {
        long at = (long) TAIL.getOpaque(this);
        if (at - (long) HEAD.getAcquire(this) == CAPACITY) {
            return false;
        }
        slots[(int) at & MASK] = buffer;
        // Publishes the slot, and what the producer wrote into the buffer, to the consumer's acquire.
        TAIL.setRelease(this, at + 1);
        return true;
    }

    /** The consumer: null when the ring is empty. */
    Object poll() {
        long at = (long) HEAD.getOpaque(this);
        if (at == (long) TAIL.getAcquire(this)) {
            return null;
        }
        Object buffer = slots[(int) at & MASK];
        slots[(int) at & MASK] = null;
        // Frees the slot for the producer, after this thread's read of it.
        HEAD.setRelease(this, at + 1);
        return buffer;
    }
}
