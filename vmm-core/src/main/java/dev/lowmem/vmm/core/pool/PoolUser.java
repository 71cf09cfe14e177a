package dev.lowmem.vmm.core.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One worker's (one queue's) draw on a {@link PacketPool}: a cache of buffers it takes and gives
 * back without a lock, and a return queue for buffers other threads release.
 *
 * <p>{@link #take()} and {@link #drainReturns()} belong to one thread, the owner thread, which
 * each of them binds (the user may be made on a control thread and handed over). The
 * owner's thread may change only by a handover that orders the old thread's last call before the
 * new thread's first (a thread start or join, a queue). {@link PacketBuffer#release()} may come
 * from any thread, also after {@link #close()}.
 */
public final class PoolUser implements AutoCloseable {
    private static final VarHandle TAKES;
    private static final VarHandle CACHE_MISSES;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            TAKES = lookup.findVarHandle(PoolUser.class, "takes", long.class);
            CACHE_MISSES = lookup.findVarHandle(PoolUser.class, "cacheMisses", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final PacketPool pool;
    private final String name;
    /** A stack: the buffer released last, still warm in this CPU's cache, goes out first. */
    private final PacketBuffer[] cache;
    private int cached;
    private final ReturnStack returns = new ReturnStack();
    /** The owner thread; others read it only to learn they are not it. */
    private Thread thread;
    /** Set before the cache and the return stack go home; a releasing thread re-checks it after pushing. */
    private volatile boolean closed;
    // Single writer (the owner), read by stats at any time: opaque, as in QueuePairCounters.
    private long takes;
    private long cacheMisses;

    PoolUser(PacketPool pool, String name, int cacheSize) {
        this.pool = pool;
        this.name = name;
        this.cache = new PacketBuffer[cacheSize];
    }

    /**
     * A buffer, or null when the pool has none to give now; never blocks, never throws, never
     * allocates a slab. From the cache without a lock; on a miss, first the buffers other
     * threads returned, then half a cache from the shared free list under the pool's short lock.
     * A null is counted as one budget or native failure (see {@link PoolStats}) and wakes the
     * refiller, as does a miss that leaves the shared list under the reserve target. After
     * {@link #close()}, always null, and not counted.
     */
    public PacketBuffer take() {
        bindToCurrentThread();
        if (cached == 0 && !refillCache()) {
            return null;
        }
        PacketBuffer buffer = cache[--cached];
        buffer.takenBy(this);
        TAKES.setOpaque(this, takes + 1);
        return buffer;
    }

    /**
     * Brings the buffers other threads released back into the cache (any overflow to the shared
     * list). Call it at the end of each poll cycle; it costs one read when there are none.
     */
    public void drainReturns() {
        bindToCurrentThread();
        cacheAll(returns.drain());
    }

    public String name() {
        return name;
    }

    /**
     * Leaves the pool: the cache and the returned buffers go to the shared list and the reserve
     * target shrinks by this user's share. Buffers still out come home as they are released.
     * When the last user leaves, the pool frees its slabs once every buffer is home. Call it on
     * the owner thread, or once that thread has stopped using this user.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        thread = null;
        pool.leave(this, cache, cached, returns.drain());
        cached = 0;
    }

    /** Fills the cache of a user just made, on the joining thread. */
    void prefill() {
        cached = pool.prefill(cache);
    }

    /** Successful takes so far; any thread. */
    long takes() {
        return (long) TAKES.getOpaque(this);
    }

    /** Takes that found the cache empty; any thread. */
    long cacheMisses() {
        return (long) CACHE_MISSES.getOpaque(this);
    }

    /** Routes a released buffer: see {@link PacketBuffer#release()}. */
    void giveBack(PacketBuffer buffer) {
        if (thread == Thread.currentThread() && !closed) {
            cache(buffer);
            return;
        }
        returns.push(buffer);
        // close() sets closed before draining: either it drains this push, or this sees closed
        // and drains itself (getAndSet gives each buffer to one drainer).
        if (closed) {
            pool.comeHome(returns.drain());
        }
    }

    private void bindToCurrentThread() {
        Thread current = Thread.currentThread();
        if (thread != current) {
            thread = current;
        }
    }

    private boolean refillCache() {
        if (closed) {
            return false;
        }
        CACHE_MISSES.setOpaque(this, cacheMisses + 1);
        cacheAll(returns.drain());
        if (cached == 0) {
            cached = pool.fillCache(cache, cache.length / 2);
        }
        return cached > 0;
    }

    private void cacheAll(PacketBuffer first) {
        PacketBuffer buffer = first;
        while (buffer != null) {
            PacketBuffer next = buffer.next;
            cache(buffer);
            buffer = next;
        }
    }

    private void cache(PacketBuffer buffer) {
        if (cached == cache.length) {
            spill();
        }
        cache[cached++] = buffer;
    }

    /** Gives the older half of a full cache to the shared list and keeps the warmer half. */
    private void spill() {
        int half = cache.length / 2;
        pool.putBack(cache, half);
        System.arraycopy(cache, half, cache, 0, cached - half);
        cached -= half;
    }
}
