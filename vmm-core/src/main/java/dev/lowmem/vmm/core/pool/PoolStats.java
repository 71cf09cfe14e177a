package dev.lowmem.vmm.core.pool;

/**
 * A snapshot of a {@link PacketPool}, taken under its lock: the shared state is exact at one
 * instant, while each user's {@code takes} and {@code cacheMisses} may be a few takes behind
 * (those are written by the users' own threads without a lock).
 *
 * @param budgetBytes    the most slab memory the pool may hold now
 * @param allocatedBytes slab memory held now (never above the budget it was allocated under)
 * @param slabs          slabs held now
 * @param freeBuffers    buffers in the shared free list now; not those in users' caches or
 *                       return queues, nor those taken
 * @param reserveTarget  the mark the shared free list is refilled to: {@code reservePerUser}
 *                       times {@code users}
 * @param users          users joined and not yet closed
 * @param takes          {@link PoolUser#take()} calls that returned a buffer, over the pool's life
 * @param cacheMisses    takes that found their user's cache empty and went to the user's return
 *                       queue and then the shared free list (whether or not they got a buffer)
 * @param reserveTakes   buffers handed out of the reserve: each buffer that left the shared free
 *                       list (into a user's cache) while the list held no more than
 *                       {@code reserveTarget} buffers, that is while the refill was behind
 * @param budgetFailures refill rounds stopped because one more slab would exceed the budget,
 *                       plus takes that found nothing while the last stopped round (or none yet)
 *                       was stopped by the budget
 * @param nativeFailures refill rounds stopped because the system refused memory (the allocator
 *                       threw {@link OutOfMemoryError}), plus takes that found nothing while the
 *                       last stopped round was stopped that way
 * @param refillRounds   refill rounds (including those of a join's fill) that allocated at least one slab
 */
public record PoolStats(long budgetBytes, long allocatedBytes, int slabs, int freeBuffers, int reserveTarget,
                        int users, long takes, long cacheMisses, long reserveTakes, long budgetFailures,
                        long nativeFailures, long refillRounds) {
}
