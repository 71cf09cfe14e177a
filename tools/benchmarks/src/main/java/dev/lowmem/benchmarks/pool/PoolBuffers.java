package dev.lowmem.benchmarks.pool;

import dev.lowmem.vmm.core.pool.PacketBuffer;
import dev.lowmem.vmm.core.pool.PacketPool;
import dev.lowmem.vmm.core.pool.PoolConfig;
import dev.lowmem.vmm.core.pool.PoolUser;
import java.lang.foreign.MemorySegment;

/**
 * The packet pool as a queue pair's RX backlog draws on it: one user, whose thread takes from its
 * cache without a lock; a release on another thread goes onto the user's return stack (a CAS),
 * which the user drains at the end of its poll cycle.
 */
final class PoolBuffers implements FreeBuffers<PacketBuffer> {
    private final PacketPool pool = new PacketPool(PoolConfig.defaults());
    private final PoolUser user = pool.join("benchmark");

    @Override
    public PacketBuffer take() {
        return user.take();
    }

    @Override
    public void release(PacketBuffer buffer) {
        buffer.release();
    }

    @Override
    public MemorySegment bytes(PacketBuffer buffer) {
        return buffer.segment();
    }

    @Override
    public void endOfPollCycle() {
        user.drainReturns();
    }

    @Override
    public void close() {
        user.close();
        pool.close();
    }
}
