package dev.lowmem.benchmarks.pool;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The alternative to the pool's owner return queues: one free list that every thread takes from
 * and releases to under one lock, with no cache and no owner. The same memory as the pool (2 KiB
 * buffers carved from one 1 MiB slab), so only the way buffers come back differs.
 */
final class SharedLockedFreeList implements FreeBuffers<MemorySegment> {
    private static final int BUFFER_SIZE = 2048;
    private static final int BUFFERS = 512;

    private final Arena arena = Arena.ofShared();
    private final ReentrantLock lock = new ReentrantLock();
    /** A stack: the buffer released last goes out first, as the pool's cache does. */
    private final MemorySegment[] free = new MemorySegment[BUFFERS];
    private int count;

    SharedLockedFreeList() {
        MemorySegment slab = arena.allocate((long) BUFFER_SIZE * BUFFERS, 64);
        for (int i = 0; i < BUFFERS; i++) {
            free[count++] = slab.asSlice((long) i * BUFFER_SIZE, BUFFER_SIZE);
        }
    }

    @Override
    public MemorySegment take() {
        lock.lock();
        try {
            return count == 0 ? null : free[--count];
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void release(MemorySegment buffer) {
        lock.lock();
        try {
            free[count++] = buffer;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public MemorySegment bytes(MemorySegment buffer) {
        return buffer;
    }

    /** Releases went straight to the list: nothing to bring home. */
    @Override
    public void endOfPollCycle() {
    }

    @Override
    public void close() {
        arena.close();
    }
}
