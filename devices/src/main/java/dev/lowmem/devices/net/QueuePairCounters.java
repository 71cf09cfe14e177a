package dev.lowmem.devices.net;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One queue pair's counters: written by one thread at a time, read by anyone at any time (the
 * stats line, the JSON dump, tests). The worker writes them; a switch port's sender writes the RX
 * ones too, but only inside the RX queue's access lock, as the worker does, so the lock orders
 * the writers. One writer at a time, so an opaque read-add-write is exact and costs a plain
 * store on x86; readers see each value whole, possibly a burst behind.
 */
public final class QueuePairCounters {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);
    private static final NetCounter[] ALL = NetCounter.values();

    private final long[] values = new long[ALL.length];

    /** The worker, or a sender inside the RX queue's access lock (RX counters). */
    void add(NetCounter counter, long delta) {
        int slot = counter.ordinal();
        SLOT.setOpaque(values, slot, (long) SLOT.getOpaque(values, slot) + delta);
    }

    /** As {@link #add}. */
    void increment(NetCounter counter) {
        add(counter, 1);
    }

    public long get(NetCounter counter) {
        return (long) SLOT.getOpaque(values, counter.ordinal());
    }

    /** Frames dropped for any reason, in either direction. */
    public long drops() {
        long total = 0;
        for (NetCounter counter : ALL) {
            if (counter.isDrop()) {
                total += get(counter);
            }
        }
        return total;
    }
}
