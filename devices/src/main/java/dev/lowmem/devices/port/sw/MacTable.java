package dev.lowmem.devices.port.sw;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * The switch's learning table: which port each unicast source MAC was last seen on, forgotten
 * after an ageing time of silence (300 s by default, as a Linux bridge's {@code ageing_time}).
 *
 * <p>Every frame reads it and most frames only refresh an entry, so both run without a lock and
 * without allocation: a lookup probes an open-addressing table that is never changed in place
 * except for an entry's port and last-seen time, each one word. A new MAC, or one that moved to
 * another port, takes a lock; when the table is full of live entries it is rebuilt twice the size
 * (learning may allocate) and published whole, so readers see the old table or the new one.
 * Aged entries are not removed on the hot path: a lookup treats them as unknown, and a rebuild
 * leaves them out.
 */
public final class MacTable {
    /** A Linux bridge's default ageing time (br_private.h, BR_DEFAULT_AGEING_TIME). */
    public static final Duration DEFAULT_AGEING = Duration.ofSeconds(300);
    /** The answer of {@link #lookup} for a MAC that is not known (never seen, or aged out). */
    public static final int UNKNOWN = -1;
    private static final int INITIAL_CAPACITY = 256;
    /** The most entries: past it, new MACs are not learned and frames to them are flooded. */
    static final int MAX_CAPACITY = 1 << 16;
    private static final ValueLayout.OfInt HIGH_FOUR = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort LOW_TWO = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
    /** Marks a slot in use, so that the all-zero MAC can be a key too. */
    private static final long PRESENT = 1L << 48;

    private final long ageingNanos;
    private final LongSupplier clock;
    private final Object learning = new Object();
    private volatile Slots slots = new Slots(INITIAL_CAPACITY);

    /** @param clock nanoseconds, as {@link System#nanoTime()}: the tests' own clock moves time on */
    public MacTable(Duration ageing, LongSupplier clock) {
        if (ageing.isNegative() || ageing.isZero()) {
            throw new IllegalArgumentException("an ageing time must be positive, not " + ageing);
        }
        this.ageingNanos = ageing.toNanos();
        this.clock = clock;
    }

    public MacTable() {
        this(DEFAULT_AGEING, System::nanoTime);
    }

    /** The 48-bit MAC at {@code offset} of {@code frame}, as a number: the destination at 0, the source at 6. */
    public static long macAt(MemorySegment frame, long offset) {
        return (frame.get(HIGH_FOUR, offset) & 0xFFFFFFFFL) << 16 | frame.get(LOW_TWO, offset + 4) & 0xFFFF;
    }

    /** Whether the group bit (the first byte's lowest) is set: broadcast and multicast, never a source to learn. */
    public static boolean isGroup(long mac) {
        return (mac & (1L << 40)) != 0;
    }

    /**
     * Notes that {@code mac} was just seen transmitting on {@code port}; a group address is
     * ignored. No lock and no allocation when the MAC is already known on that port.
     */
    public void learn(long mac, int port) {
        if (isGroup(mac)) {
            return;
        }
        long now = clock.getAsLong();
        Slots current = slots;
        int slot = current.find(mac);
        if (slot >= 0 && current.port(slot) == port) {
            current.touch(slot, now);
            return;
        }
        synchronized (learning) {
            store(mac, port, now);
        }
    }

    /** The port {@code mac} was last seen on, or {@link #UNKNOWN}: never seen, aged out, or a group address. */
    public int lookup(long mac) {
        Slots current = slots;
        int slot = current.find(mac);
        if (slot < 0 || clock.getAsLong() - current.seen(slot) > ageingNanos) {
            return UNKNOWN;
        }
        return current.port(slot);
    }

    /** Entries not aged out; for stats and tests, not the datapath. */
    public int size() {
        return slots.live(clock.getAsLong(), ageingNanos);
    }

    /** Under the lock: moves a known MAC or adds a new one, growing the table when it must. */
    private void store(long mac, int port, long now) {
        Slots current = slots;
        int slot = current.find(mac);
        if (slot >= 0) {
            current.move(slot, port, now);
            return;
        }
        if (!current.hasRoom()) {
            current = current.rebuilt(now, ageingNanos);
            if (current == null) {
                return;
            }
            slots = current;
        }
        current.add(mac, port, now);
    }

    /**
     * One open-addressing table (linear probing). A slot's key is written last, with release
     * semantics, after its port and time; it never changes after, so a reader that sees the key
     * sees an entry whole. Ports and times change with plain atomic word stores.
     */
    private static final class Slots {
        private final long[] keys;
        private final int[] ports;
        private final long[] seen;
        private final int mask;
        private int used;

        Slots(int capacity) {
            keys = new long[capacity];
            ports = new int[capacity];
            seen = new long[capacity];
            mask = capacity - 1;
        }

        int find(long mac) {
            long key = mac | PRESENT;
            for (int slot = hash(mac) & mask; ; slot = (slot + 1) & mask) {
                long found = (long) LONGS.getAcquire(keys, slot);
                if (found == key) {
                    return slot;
                }
                if (found == 0) {
                    return -1;
                }
            }
        }

        int port(int slot) {
            return (int) INTS.getOpaque(ports, slot);
        }

        long seen(int slot) {
            return (long) LONGS.getOpaque(seen, slot);
        }

        void touch(int slot, long now) {
            LONGS.setOpaque(seen, slot, now);
        }

        void move(int slot, int port, long now) {
            LONGS.setOpaque(seen, slot, now);
            INTS.setOpaque(ports, slot, port);
        }

        /** Three quarters full at most, so that a probe for an absent key ends soon. */
        boolean hasRoom() {
            return used < keys.length - keys.length / 4;
        }

        void add(long mac, int port, long now) {
            int slot = hash(mac) & mask;
            while (keys[slot] != 0) {
                slot = (slot + 1) & mask;
            }
            ports[slot] = port;
            seen[slot] = now;
            LONGS.setRelease(keys, slot, mac | PRESENT);
            used++;
        }

        /** A table with the live entries, twice the size if they fill half of this one; null past the largest. */
        Slots rebuilt(long now, long ageingNanos) {
            int live = live(now, ageingNanos);
            int capacity = live >= keys.length / 2 ? keys.length * 2 : keys.length;
            if (capacity > MAX_CAPACITY) {
                return null;
            }
            Slots next = new Slots(capacity);
            for (int slot = 0; slot < keys.length; slot++) {
                if (keys[slot] != 0 && now - seen(slot) <= ageingNanos) {
                    next.add(keys[slot] & ~PRESENT, port(slot), seen(slot));
                }
            }
            return next;
        }

        int live(long now, long ageingNanos) {
            int live = 0;
            for (int slot = 0; slot < keys.length; slot++) {
                if ((long) LONGS.getAcquire(keys, slot) != 0 && now - seen(slot) <= ageingNanos) {
                    live++;
                }
            }
            return live;
        }

        /** Fibonacci hashing: the MAC's low bytes vary most, the multiply spreads them into the top. */
        private static int hash(long mac) {
            return (int) ((mac * 0x9E3779B97F4A7C15L) >>> 40);
        }
    }
}
