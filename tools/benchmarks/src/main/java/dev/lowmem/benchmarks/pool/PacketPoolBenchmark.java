package dev.lowmem.benchmarks.pool;

import dev.lowmem.benchmarks.NanosPerOperation;
import java.lang.foreign.ValueLayout;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Control;

/**
 * What the pool's owner return queues buy against one shared free list under a lock, with the
 * same take and release (Linux frees an skb on the CPU that allocated it; docs/LOW-MEMORY.md,
 * "The packet pool: owner return queues or a shared list", has the figures).
 *
 * <p>{@code crossThread}: one thread takes buffers, writes a word into each and hands it over
 * ({@link Handover}); the other reads the word and releases it, as a switch port's worker
 * releases what another port's worker took. The two are coupled through a ring of 256, so over
 * an iteration each one's score is the time per buffer going round: ns per take and release.
 * With the pool, the release is a CAS onto the taker's return stack, and the taker brings the
 * stack home every 32 takes (its poll cycle) or when its cache runs dry; with the shared list,
 * both take the lock for every buffer. A thread that finds the ring full or empty yields rather
 * than spins: on a 2-core machine shared with other work, a spinning thread keeps its core while
 * the other waits for one (in a short run, 85 us an operation spinning, 43 ns yielding).
 *
 * <p>{@code sameThread}: one thread takes 32 buffers and releases them, as the RX backlog holds
 * and delivers; the score is ns per take and release.
 *
 * <pre>java -jar tools/benchmarks/target/benchmarks.jar PacketPoolBenchmark -p freeList=pool</pre>
 */
@State(Scope.Group)
public class PacketPoolBenchmark extends NanosPerOperation {
    /** Takes between the taker's drains of its returns: a worker's burst. */
    private static final int POLL_CYCLE = 32;

    /** {@code pool}: the packet pool; {@code locked}: {@link SharedLockedFreeList}. */
    @Param({"pool", "locked"})
    String freeList;

    private FreeBuffers<Object> buffers;
    private final Handover handover = new Handover();
    /** The taking thread's alone. */
    private long taken;
    /** {@code sameThread}'s buffers of one cycle. */
    private final Object[] cycle = new Object[POLL_CYCLE];

    @SuppressWarnings("unchecked")
    @Setup(Level.Trial)
    public void open() {
        buffers = (FreeBuffers<Object>) (FreeBuffers<?>) switch (freeList) {
            case "pool" -> new PoolBuffers();
            case "locked" -> new SharedLockedFreeList();
            default -> throw new IllegalArgumentException("freeList " + freeList + ": pool or locked");
        };
    }

    @Benchmark
    @Group("crossThread")
    @GroupThreads(1)
    public void take(Control control) {
        Object buffer;
        while ((buffer = buffers.take()) == null) {
            if (control.stopMeasurement) {
                return;
            }
            buffers.endOfPollCycle();
            Thread.yield();
        }
        buffers.bytes(buffer).set(ValueLayout.JAVA_LONG, 0, taken);
        while (!handover.offer(buffer)) {
            if (control.stopMeasurement) {
                buffers.release(buffer);
                return;
            }
            Thread.yield();
        }
        if (++taken % POLL_CYCLE == 0) {
            buffers.endOfPollCycle();
        }
    }

    @Benchmark
    @Group("crossThread")
    @GroupThreads(1)
    public long release(Control control) {
        Object buffer;
        while ((buffer = handover.poll()) == null) {
            if (control.stopMeasurement) {
                return -1;
            }
            Thread.yield();
        }
        long word = buffers.bytes(buffer).get(ValueLayout.JAVA_LONG, 0);
        buffers.release(buffer);
        return word;
    }

    /** A group of its own, one thread: the state is per group. */
    @Benchmark
    @Group("sameThread")
    @OperationsPerInvocation(POLL_CYCLE)
    public void sameThread() {
        for (int i = 0; i < POLL_CYCLE; i++) {
            cycle[i] = buffers.take();
            buffers.bytes(cycle[i]).set(ValueLayout.JAVA_LONG, 0, i);
        }
        for (int i = 0; i < POLL_CYCLE; i++) {
            buffers.release(cycle[i]);
            cycle[i] = null;
        }
        buffers.endOfPollCycle();
    }

    /** Buffers left in the ring when the threads stopped go back, so no iteration starts short of them. */
    @TearDown(Level.Iteration)
    public void releaseHandedOver() {
        Object buffer;
        while ((buffer = handover.poll()) != null) {
            buffers.release(buffer);
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        buffers.close();
    }
}
