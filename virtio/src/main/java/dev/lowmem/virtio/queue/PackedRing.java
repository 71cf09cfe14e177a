package dev.lowmem.virtio.queue;

import java.lang.foreign.MemorySegment;

/**
 * Where the fields of a packed virtqueue lie (virtio 1.2, 2.8): one descriptor ring and two event
 * suppression structures.
 *
 * <pre>
 * descriptor ring, 16 * size bytes, 16-aligned       struct pvirtq_desc {
 *                                                        le64 addr;   // 0
 *                                                        le32 len;    // 8
 *                                                        le16 id;     // 12
 *                                                        le16 flags;  // 14
 *                                                    };
 * driver area (driver event suppression: for used buffers), 4 bytes, 4-aligned
 * device area (device event suppression: for kicks), 4 bytes, 4-aligned
 *     struct pvirtq_event_suppress { le16 off_wrap; le16 flags; };
 * </pre>
 *
 * A descriptor is available when its AVAIL bit equals the driver's wrap counter and its USED bit
 * differs; the device marks it used by setting both bits to its own wrap counter. Indirect tables
 * hold {@code pvirtq_desc} entries too.
 */
final class PackedRing {
    static final int DESC_SIZE = 16;
    static final int DESC_ADDR = 0;
    static final int DESC_LEN = 8;
    static final int DESC_ID = 12;
    static final int DESC_FLAGS = 14;

    static final int F_NEXT = 1;
    static final int F_WRITE = 2;
    static final int F_INDIRECT = 4;
    static final int F_AVAIL = 1 << 7;
    static final int F_USED = 1 << 15;

    static final int EVENT_AREA_SIZE = 4;
    static final int EVENT_OFF_WRAP = 0;
    static final int EVENT_FLAGS = 2;
    static final int EVENT_ENABLE = 0;
    static final int EVENT_DISABLE = 1;
    /** Notify at the descriptor {@code off_wrap} names (needs EVENT_IDX). */
    static final int EVENT_DESC = 2;

    private PackedRing() {
    }

    static long descOffset(int slot) {
        return (long) DESC_SIZE * slot;
    }

    /** The flags that make a descriptor available in the lap whose wrap counter is {@code wrap}. */
    static int availableFlags(boolean wrap) {
        return wrap ? F_AVAIL : F_USED;
    }

    /** The flags that mark a descriptor used in the lap whose wrap counter is {@code wrap}. */
    static int usedFlags(boolean wrap) {
        return wrap ? F_AVAIL | F_USED : 0;
    }

    static boolean isAvailable(int flags, boolean wrap) {
        boolean avail = (flags & F_AVAIL) != 0;
        boolean used = (flags & F_USED) != 0;
        return avail != used && avail == wrap;
    }

    static boolean isUsed(int flags, boolean wrap) {
        boolean avail = (flags & F_AVAIL) != 0;
        boolean used = (flags & F_USED) != 0;
        return avail == used && used == wrap;
    }

    /** {@code off_wrap}: bits 0-14 a ring offset, bit 15 the wrap counter of the lap it is in. */
    static int offWrap(int slot, boolean wrap) {
        return slot | (wrap ? 1 << 15 : 0);
    }

    /**
     * A position as a number modulo {@code 2 * size} that grows by one per descriptor, so the
     * spec's event arithmetic works on it as on split rings' free-running indices. The first lap
     * has wrap counter 1.
     */
    static int linear(int slot, boolean wrap, int size) {
        return wrap ? slot : slot + size;
    }

    /**
     * Whether the other side's event suppression structure asks for a notification now that this
     * side's position moved from {@code old} to {@code now} ({@link #linear} positions): never
     * when it disabled them; always when it enabled them, or when {@code unconditional} (the
     * first notification after a start); else when its {@code off_wrap} lies in between.
     */
    static boolean wantsNotification(MemorySegment eventArea, int now, int old, boolean eventIdx, int size,
            boolean unconditional) {
        int flags = Ring.u16(eventArea, EVENT_FLAGS);
        if (flags == EVENT_DISABLE) {
            return false;
        }
        if (flags == EVENT_DESC && eventIdx && !unconditional) {
            return Ring.needEvent(linearOfOffWrap(Ring.u16(eventArea, EVENT_OFF_WRAP), size), now, old, 2 * size);
        }
        return true;
    }

    /**
     * Asks the other side for a notification: with EVENT_IDX, when it reaches {@code slot} in the
     * lap whose wrap counter is {@code wrap}; without, at its next step.
     */
    static void requestNotification(MemorySegment eventArea, boolean eventIdx, int slot, boolean wrap) {
        if (eventIdx) {
            Ring.putU16(eventArea, EVENT_OFF_WRAP, offWrap(slot, wrap));
            Ring.putU16(eventArea, EVENT_FLAGS, EVENT_DESC);
        } else {
            Ring.putU16(eventArea, EVENT_FLAGS, EVENT_ENABLE);
        }
    }

    static int linearOfOffWrap(int offWrap, int size) {
        return linear(offWrap & 0x7FFF, (offWrap & 0x8000) != 0, size);
    }
}
