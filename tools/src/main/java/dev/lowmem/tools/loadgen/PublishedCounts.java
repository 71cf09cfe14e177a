package dev.lowmem.tools.loadgen;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A pair's counters as its thread publishes them once per round and any thread reads them: single
 * writer, so opaque stores suffice (plain stores on x86) and a reader sees each value whole,
 * possibly a round behind.
 */
final class PublishedCounts {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int TX_POSTED = 0;
    private static final int TX_FRAMES = 1;
    private static final int TX_BYTES = 2;
    private static final int RX_FRAMES = 3;
    private static final int RX_BYTES = 4;
    private static final int RX_BAD = 5;
    private static final int KICKS = 6;
    private static final int WAKEUPS = 7;
    private static final int ROUNDS = 8;
    private static final int IDLE_ROUNDS = 9;

    private final long[] values = new long[10];

    /** The pair's thread only. */
    void publish(long txPosted, long txFrames, long txBytes, long rxFrames, long rxBytes, long rxBad, long kicks,
            long wakeups, long rounds, long idleRounds) {
        SLOT.setOpaque(values, TX_POSTED, txPosted);
        SLOT.setOpaque(values, TX_FRAMES, txFrames);
        SLOT.setOpaque(values, TX_BYTES, txBytes);
        SLOT.setOpaque(values, RX_FRAMES, rxFrames);
        SLOT.setOpaque(values, RX_BYTES, rxBytes);
        SLOT.setOpaque(values, RX_BAD, rxBad);
        SLOT.setOpaque(values, KICKS, kicks);
        SLOT.setOpaque(values, WAKEUPS, wakeups);
        SLOT.setOpaque(values, ROUNDS, rounds);
        SLOT.setOpaque(values, IDLE_ROUNDS, idleRounds);
    }

    Counts read() {
        return new Counts(get(TX_POSTED), get(TX_FRAMES), get(TX_BYTES), get(RX_FRAMES), get(RX_BYTES), get(RX_BAD),
                get(KICKS), get(WAKEUPS), get(ROUNDS), get(IDLE_ROUNDS));
    }

    private long get(int slot) {
        return (long) SLOT.getOpaque(values, slot);
    }
}
