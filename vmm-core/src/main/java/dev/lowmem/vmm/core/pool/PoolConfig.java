package dev.lowmem.vmm.core.pool;

/**
 * The shape of a {@link PacketPool}: how big its buffers and slabs are, how much memory it may
 * hold, and how much it keeps in hand for each user.
 *
 * @param bufferSize     bytes per buffer: a multiple of 64, so every buffer starts on its own
 *                       cache line and two workers never share one
 * @param buffersPerSlab buffers carved from one slab; a slab is the unit of allocation and of
 *                       release, so large slabs mean few system calls and coarse give-back
 * @param budgetBytes    the most slab memory the pool may hold; changeable at run time with
 *                       {@link PacketPool#setBudget}
 * @param reservePerUser buffers the shared free list should hold per joined user: below that
 *                       the refiller is woken, and the buffers under the mark (the reserve) keep
 *                       serving until it catches up
 * @param cacheSize      buffers a user keeps for itself, taken and given without a lock; a miss
 *                       or an overflow moves half of it at once
 * @param slabsPerRefill the most slabs one refill round allocates, so a round is short and its
 *                       memory arrives in bounded steps
 */
public record PoolConfig(int bufferSize, int buffersPerSlab, long budgetBytes, int reservePerUser,
                         int cacheSize, int slabsPerRefill) {
    private static final int CACHE_LINE = 64;
    private static final long MIB = 1 << 20;

    public PoolConfig {
        if (bufferSize <= 0 || bufferSize % CACHE_LINE != 0) {
            throw new IllegalArgumentException("bufferSize " + bufferSize + " is not a positive multiple of "
                    + CACHE_LINE);
        }
        if (buffersPerSlab <= 0) {
            throw new IllegalArgumentException("buffersPerSlab " + buffersPerSlab + " is not positive");
        }
        if (budgetBytes < 0) {
            throw new IllegalArgumentException("budgetBytes " + budgetBytes + " is negative");
        }
        if (reservePerUser <= 0) {
            throw new IllegalArgumentException("reservePerUser " + reservePerUser
                    + " is not positive (with no reserve the pool would never refill)");
        }
        if (cacheSize < 2) {
            throw new IllegalArgumentException("cacheSize " + cacheSize + " is below 2 (a miss moves half of it)");
        }
        if (slabsPerRefill <= 0) {
            throw new IllegalArgumentException("slabsPerRefill " + slabsPerRefill + " is not positive");
        }
    }

    /** 2 KiB buffers (a 1514-byte frame and its virtio-net header), 1 MiB slabs, 64 MiB budget. */
    public static PoolConfig defaults() {
        return new PoolConfig(2048, 512, 64 * MIB, 256, 128, 4);
    }

    public PoolConfig withBudget(long budgetBytes) {
        return new PoolConfig(bufferSize, buffersPerSlab, budgetBytes, reservePerUser, cacheSize, slabsPerRefill);
    }

    /** Bytes per slab. */
    public long slabBytes() {
        return (long) bufferSize * buffersPerSlab;
    }
}
