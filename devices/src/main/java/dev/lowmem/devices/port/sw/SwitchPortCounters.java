package dev.lowmem.devices.port.sw;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One switch port's counters. Unlike a queue pair's, several threads write them: every sender
 * counts its flood copies that a full inbox refused on the receiving port. So each add is an
 * atomic add (no allocation, one locked instruction); anyone may read at any time.
 */
public final class SwitchPortCounters {
    private static final SwitchCounter[] ALL = SwitchCounter.values();

    private final AtomicLongArray values = new AtomicLongArray(ALL.length);

    void add(SwitchCounter counter, long delta) {
        values.getAndAdd(counter.ordinal(), delta);
    }

    void increment(SwitchCounter counter) {
        add(counter, 1);
    }

    public long get(SwitchCounter counter) {
        return values.get(counter.ordinal());
    }

    /** Frames dropped for this port, for any reason. */
    public long drops() {
        long total = 0;
        for (SwitchCounter counter : ALL) {
            if (counter.isDrop()) {
                total += get(counter);
            }
        }
        return total;
    }
}
