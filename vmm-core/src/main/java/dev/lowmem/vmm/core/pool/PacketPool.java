package dev.lowmem.vmm.core.pool;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Off-heap packet buffers for the datapath's own memory: an RX backlog that holds frames while
 * a guest's RX ring is empty, a switch, generated traffic.
 *
 * <p>Buffers are carved from large slabs allocated in batches. Each {@link PoolUser} (a worker,
 * a queue) keeps a cache, so its takes and releases take no lock; caches exchange batches with
 * one shared free list under a short lock. That list is kept at a reserve target that grows with
 * the number of users: a take that leaves it below the target wakes the refiller thread, and the
 * buffers under the target (the reserve) keep serving until the refiller catches up. No slab is
 * ever allocated on a take.
 *
 * <p>Memory is bounded by a budget that may change at run time. Running short, of budget or of
 * system memory, is a counted event ({@link PoolStats}): a take returns null, a refill round
 * stops, nothing throws, and the next round after memory returns fills the pool again. When the
 * last user leaves and every buffer is home, every slab goes back to the system.
 */
public final class PacketPool implements AutoCloseable {
    /** What stopped a refill round; a take that finds nothing is counted as the latest one. */
    private enum Shortage { BUDGET, NATIVE }

    private final PoolConfig config;
    private final SlabAllocator allocator;
    private final long slabBytes;
    private final Refiller refiller = new Refiller(this::refill);
    /**
     * Held for any change to the set of slabs (a refill round, a release of slabs, close), so
     * rounds never overshoot the budget together and no slab is freed under a round. Taken before
     * {@link #lock}, never while holding it; slabs are allocated and freed under this lock only.
     */
    private final Object refillLock = new Object();
    /** Guards everything below, and is held only for array copies and counts, never for a system call. */
    private final Object lock = new Object();
    private final FreeList free = new FreeList();
    private final List<Slab> slabs = new ArrayList<>();
    private final List<PoolUser> users = new ArrayList<>();
    private long allocatedBytes;
    private int reserveTarget;
    /** Written under {@link #lock}; volatile so {@link #budget()} reads it without. */
    private volatile long budget;
    private Shortage lastShortage = Shortage.BUDGET;
    /**
     * The last round stopped at the budget, and neither the budget nor the slabs changed since:
     * another round would stop the same way, so takes do not wake the refiller for it.
     */
    private boolean budgetBlocked;
    private boolean closed;
    private long reserveTakes;
    private long budgetFailures;
    private long nativeFailures;
    private long refillRounds;
    /** The counters of users that left, so the pool's totals never go back. */
    private long leftTakes;
    private long leftCacheMisses;

    /** A pool whose slabs are {@link SlabAllocator#anonymousMappings() anonymous mappings}. */
    public PacketPool(PoolConfig config) {
        this(config, SlabAllocator.anonymousMappings());
    }

    /** A pool drawing its slabs from {@code allocator}: hugepages, a test's failures. */
    public PacketPool(PoolConfig config, SlabAllocator allocator) {
        this.config = Objects.requireNonNull(config, "config");
        this.allocator = Objects.requireNonNull(allocator, "allocator");
        this.slabBytes = config.slabBytes();
        this.budget = config.budgetBytes();
    }

    /**
     * A queue or worker starts drawing on the pool (a port activates): the reserve target grows
     * by {@code reservePerUser}, slabs are allocated (in capped rounds, on this thread) until the
     * shared list holds the target plus one cache, or the budget or the system says no (counted),
     * and the new user's cache is filled from it.
     */
    public PoolUser join(String name) {
        PoolUser user = new PoolUser(this, Objects.requireNonNull(name, "name"), config.cacheSize());
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("packet pool is closed; " + name + " cannot join");
            }
            users.add(user);
            reserveTarget += config.reservePerUser();
        }
        while (round(config.cacheSize()) == config.slabsPerRefill()) {
            // A full round may have left more to do; a short one reached the mark or ran short.
        }
        user.prefill();
        return user;
    }

    /** The pool's shape: its buffers' size, its slabs', its reserve per user. */
    public PoolConfig config() {
        return config;
    }

    /**
     * Changes the budget, from any thread. Raising it lets the next round allocate and wakes the
     * refiller. Lowering it stops growth and, while the pool holds more than the new budget,
     * frees slabs whose buffers are all in the shared list now (the reserve included: the budget
     * wins); slabs with a buffer out or cached stay until the pool is idle.
     */
    public void setBudget(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("budget " + bytes + " is negative");
        }
        boolean over;
        synchronized (lock) {
            if (bytes > budget) {
                budgetBlocked = false;
            }
            budget = bytes;
            over = allocatedBytes > bytes;
        }
        if (over) {
            freeWholeSlabsOverBudget();
        }
        refiller.wake();
    }

    public long budget() {
        return budget;
    }

    /** Any thread, any time; see {@link PoolStats} for what each number means. */
    public PoolStats stats() {
        synchronized (lock) {
            long takes = leftTakes;
            long cacheMisses = leftCacheMisses;
            for (PoolUser user : users) {
                takes += user.takes();
                cacheMisses += user.cacheMisses();
            }
            return new PoolStats(budget, allocatedBytes, slabs.size(), free.count(), reserveTarget, users.size(),
                    takes, cacheMisses, reserveTakes, budgetFailures, nativeFailures, refillRounds);
        }
    }

    /**
     * One refill round: allocates slabs, at most {@code slabsPerRefill}, while the shared list is
     * below the reserve target and the budget allows. Never throws for want of memory: a round the
     * budget or the system stops is counted and the next one tries again.
     *
     * @return whether it allocated anything
     */
    public boolean refill() {
        return round(0) > 0;
    }

    /**
     * Starts the {@value Refiller#THREAD_NAME} daemon thread, which runs refill rounds when woken:
     * by a take that leaves the shared list below the reserve target or finds nothing (unless the
     * budget stopped the last round and has not changed), and by {@link #setBudget}. Without it,
     * the pool grows only on {@link #join} and {@link #refill()}.
     */
    public void startRefiller() {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("packet pool is closed");
            }
        }
        refiller.start();
    }

    /**
     * Stops the refiller and frees every slab, buffers still out included: use it after the
     * users' threads stop. A buffer touched afterwards throws rather than reach freed memory.
     */
    @Override
    public void close() {
        refiller.stop();
        synchronized (refillLock) {
            List<Slab> all;
            synchronized (lock) {
                if (closed) {
                    return;
                }
                closed = true;
                all = detachAllSlabs();
            }
            freeAll(all);
        }
    }

    /** Whether a wake is pending for the refiller (kept until it starts): for tests of when takes wake it. */
    boolean refillWanted() {
        return refiller.wanted();
    }

    /**
     * A cache miss: moves up to {@code wanted} buffers into {@code cache} from index 0.
     *
     * @return how many; 0 is a failed take, counted as the latest shortage
     */
    int fillCache(PacketBuffer[] cache, int wanted) {
        boolean wake;
        int moved;
        synchronized (lock) {
            if (closed) {
                return 0;
            }
            moved = popIntoCache(cache, wanted);
            if (moved == 0) {
                countShortage();
            }
            wake = free.count() < reserveTarget && !budgetBlocked;
        }
        if (wake) {
            refiller.wake();
        }
        return moved;
    }

    /** Fills a new user's cache from index 0; returns how many. */
    int prefill(PacketBuffer[] cache) {
        synchronized (lock) {
            return closed ? 0 : popIntoCache(cache, cache.length);
        }
    }

    /** A live user's cache overflowed: its first {@code count} buffers go to the shared list. */
    void putBack(PacketBuffer[] cache, int count) {
        synchronized (lock) {
            if (!closed) {
                free.push(cache, 0, count);
            }
        }
    }

    /** {@code user} leaves with its cache's first {@code cached} buffers and the stack {@code returned}. */
    void leave(PoolUser user, PacketBuffer[] cache, int cached, PacketBuffer returned) {
        boolean idle;
        synchronized (lock) {
            users.remove(user);
            leftTakes += user.takes();
            leftCacheMisses += user.cacheMisses();
            reserveTarget -= config.reservePerUser();
            if (closed) {
                return;
            }
            free.push(cache, 0, cached);
            pushAll(returned);
            idle = isIdle();
        }
        if (idle) {
            releaseSlabsIfIdle();
        }
    }

    /** Buffers released to a user that has left (a stack linked through {@code next}, or null). */
    void comeHome(PacketBuffer returned) {
        if (returned == null) {
            return;
        }
        boolean idle;
        synchronized (lock) {
            if (closed) {
                return;
            }
            pushAll(returned);
            idle = isIdle();
        }
        if (idle) {
            releaseSlabsIfIdle();
        }
    }

    /** One round toward {@code reserveTarget + extra} free buffers; returns the slabs it allocated. */
    private int round(int extra) {
        synchronized (refillLock) {
            int made = 0;
            Shortage stoppedBy = null;
            while (made < config.slabsPerRefill()) {
                synchronized (lock) {
                    if (closed || free.count() >= reserveTarget + extra) {
                        break;
                    }
                    if (allocatedBytes + slabBytes > budget) {
                        stoppedBy = Shortage.BUDGET;
                        break;
                    }
                }
                Slab slab = allocateSlab();
                if (slab == null) {
                    stoppedBy = Shortage.NATIVE;
                    break;
                }
                synchronized (lock) {
                    slabs.add(slab);
                    allocatedBytes += slabBytes;
                    free.ensureCapacity(slabs.size() * config.buffersPerSlab());
                    free.push(slab.buffers(), 0, config.buffersPerSlab());
                }
                made++;
            }
            synchronized (lock) {
                if (made > 0) {
                    refillRounds++;
                }
                budgetBlocked = stoppedBy == Shortage.BUDGET;
                if (stoppedBy != null) {
                    lastShortage = stoppedBy;
                    countShortage();
                }
            }
            return made;
        }
    }

    /** A new slab, carved; null when the system (or the JVM's heap, for the buffers' objects) refuses. */
    private Slab allocateSlab() {
        MemorySegment memory;
        try {
            memory = allocator.allocate(slabBytes);
        } catch (OutOfMemoryError refused) {
            return null;
        }
        try {
            return new Slab(memory, config.bufferSize(), config.buffersPerSlab());
        } catch (OutOfMemoryError refused) {
            allocator.free(memory);
            return null;
        } catch (RuntimeException e) {
            allocator.free(memory);
            throw e;
        }
    }

    /** Frees every slab once the last user has left and every buffer is home. */
    private void releaseSlabsIfIdle() {
        synchronized (refillLock) {
            List<Slab> idle;
            synchronized (lock) {
                // A user may have joined, or the pool closed, since the caller looked.
                if (closed || !isIdle()) {
                    return;
                }
                idle = detachAllSlabs();
            }
            freeAll(idle);
        }
    }

    private void freeWholeSlabsOverBudget() {
        synchronized (refillLock) {
            List<Slab> surplus;
            synchronized (lock) {
                if (closed || allocatedBytes <= budget) {
                    return;
                }
                int excess = (int) ((allocatedBytes - budget + slabBytes - 1) / slabBytes);
                surplus = free.removeWholeSlabs(excess, config.buffersPerSlab());
                slabs.removeAll(surplus);
                allocatedBytes -= surplus.size() * slabBytes;
            }
            freeAll(surplus);
        }
    }

    /** With {@link #lock} held. */
    private boolean isIdle() {
        return users.isEmpty() && !slabs.isEmpty() && free.count() == slabs.size() * config.buffersPerSlab();
    }

    /** With {@link #lock} held: forgets every slab; the caller frees them after letting go of the lock. */
    private List<Slab> detachAllSlabs() {
        List<Slab> detached = new ArrayList<>(slabs);
        slabs.clear();
        free.clear();
        allocatedBytes = 0;
        budgetBlocked = false;
        return detached;
    }

    /** With {@link #refillLock} held, so no round counts on memory that is going. */
    private void freeAll(List<Slab> detached) {
        for (Slab slab : detached) {
            allocator.free(slab.memory());
        }
    }

    /** With {@link #lock} held: pops into a cache and counts the buffers that came from the reserve. */
    private int popIntoCache(PacketBuffer[] cache, int wanted) {
        int before = free.count();
        int moved = free.pop(cache, 0, wanted);
        // The i-th buffer popped left a list of before - i; it was the reserve's if that was at
        // most the target, which holds for all but the first (before - reserveTarget).
        reserveTakes += Math.max(0, moved - Math.max(0, before - reserveTarget));
        return moved;
    }

    /** With {@link #lock} held. */
    private void countShortage() {
        if (lastShortage == Shortage.NATIVE) {
            nativeFailures++;
        } else {
            budgetFailures++;
        }
    }

    /** With {@link #lock} held: pushes a stack linked through {@code next}. */
    private void pushAll(PacketBuffer stack) {
        for (PacketBuffer buffer = stack; buffer != null; buffer = buffer.next) {
            free.push(buffer);
        }
    }
}
