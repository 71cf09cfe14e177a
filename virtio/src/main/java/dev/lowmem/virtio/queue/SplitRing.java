package dev.lowmem.virtio.queue;

/**
 * Where the fields of a split virtqueue lie (virtio 1.2, 2.7). Three areas:
 *
 * <pre>
 * descriptor table, 16 * size bytes, 16-aligned      struct virtq_desc {
 *                                                        le64 addr;   // 0
 *                                                        le32 len;    // 8
 *                                                        le16 flags;  // 12
 *                                                        le16 next;   // 14
 *                                                    };
 * available ring (driver area), 6 + 2 * size, 2-aligned:
 *     le16 flags; le16 idx; le16 ring[size]; le16 used_event;
 * used ring (device area), 6 + 8 * size, 4-aligned:
 *     le16 flags; le16 idx; struct { le32 id; le32 len; } ring[size]; le16 avail_event;
 * </pre>
 */
final class SplitRing {
    static final int DESC_SIZE = 16;
    static final int DESC_ADDR = 0;
    static final int DESC_LEN = 8;
    static final int DESC_FLAGS = 12;
    static final int DESC_NEXT = 14;

    static final int F_NEXT = 1;
    static final int F_WRITE = 2;
    static final int F_INDIRECT = 4;

    static final int RING_FLAGS = 0;
    static final int RING_IDX = 2;
    static final int RING_ENTRIES = 4;

    /** In the available ring's flags: the driver does not want interrupts (without EVENT_IDX). */
    static final int AVAIL_F_NO_INTERRUPT = 1;
    /** In the used ring's flags: the device does not want kicks (without EVENT_IDX). */
    static final int USED_F_NO_NOTIFY = 1;

    static final int USED_ELEM_SIZE = 8;
    static final int USED_ELEM_ID = 0;
    static final int USED_ELEM_LEN = 4;

    private SplitRing() {
    }

    static long descTableSize(int size) {
        return (long) DESC_SIZE * size;
    }

    static long availSize(int size) {
        return RING_ENTRIES + 2L * size + 2;
    }

    static long usedSize(int size) {
        return RING_ENTRIES + (long) USED_ELEM_SIZE * size + 2;
    }

    static long availEntry(int slot) {
        return RING_ENTRIES + 2L * slot;
    }

    /** The driver's {@code used_event}, after the available ring's entries. */
    static long usedEvent(int size) {
        return availEntry(size);
    }

    static long usedElem(int slot) {
        return RING_ENTRIES + (long) USED_ELEM_SIZE * slot;
    }

    /** The device's {@code avail_event}, after the used ring's entries. */
    static long availEvent(int size) {
        return usedElem(size);
    }
}
