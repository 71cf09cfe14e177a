package dev.lowmem.benchmarks.pool;

import java.lang.foreign.MemorySegment;

/**
 * Buffers as {@link PacketPoolBenchmark}'s threads take and release them, whichever free list is
 * behind: the packet pool as the datapath uses it, or the shared locked list it is measured against.
 *
 * @param <B> the list's buffer
 */
interface FreeBuffers<B> extends AutoCloseable {
    /** A buffer, or null when there is none now; on the taking thread. */
    B take();

    /** Gives {@code buffer} back; any thread. */
    void release(B buffer);

    /** The buffer's bytes, for the frame the benchmark writes and reads. */
    MemorySegment bytes(B buffer);

    /** The end of the taking thread's poll cycle, where a worker brings buffers home. */
    void endOfPollCycle();

    @Override
    void close();
}
