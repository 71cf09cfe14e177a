package dev.lowmem.devices.net;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One queue pair's counters: written by its worker alone, read by anyone at any time (the stats
 * line, the JSON dump, tests). Single writer, so an opaque read-add-write is exact and costs a
 * plain store on x86; readers see each value whole, possibly a burst behind.
 */
public final class QueuePairCounters {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);
    private static final NetCounter[] ALL = NetCounter.values();

    private final long[] values = new long[ALL.length];

    /** Worker thread only. */
    void add(NetCounter counter, long delta) {
        int slot = counter.ordinal();
        SLOT.setOpaque(values, slot, (long) SLOT.getOpaque(values, slot) + delta);
    }

    /** Worker thread only. */
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
