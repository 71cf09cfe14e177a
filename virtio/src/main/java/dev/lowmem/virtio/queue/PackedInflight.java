package dev.lowmem.virtio.queue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

import static dev.lowmem.virtio.queue.Ring.U32;
import static dev.lowmem.virtio.queue.Ring.U64;

/**
 * The inflight bookkeeping of a packed queue in its region of the front-end's INFLIGHT_SHMFD
 * buffer (docs/interop/vhost-user.rst, "Inflight I/O tracking"). A packed ring's used elements
 * overwrite the descriptors, so the region keeps a copy of every descriptor of every chain in
 * flight, in entries taken from a free list:
 *
 * <pre>
 * struct QueueRegionPacked {                   struct DescStatePacked {       // 32 bytes
 *     u64 features;               //  0            u8  inflight;  //  0
 *     u16 version;                //  8            u8  padding;
 *     u16 desc_num;               // 10            u16 next;      //  2  next free, or next of the chain
 *     u16 free_head;              // 12            u16 last;      //  4  the chain's last entry (head only)
 *     u16 old_free_head;          // 14            u16 num;       //  6  the chain's descriptors (head only)
 *     u16 used_idx;               // 16            u64 counter;   //  8  (head only)
 *     u16 old_used_idx;           // 18            u16 id;        // 16
 *     u8  used_wrap_counter;      // 20            u16 flags;     // 18
 *     u8  old_used_wrap_counter;  // 21            u32 len;       // 20
 *     u8  padding[7];                              u64 addr;      // 24
 *     DescStatePacked desc[desc_num];  // 32   };
 * };
 * </pre>
 *
 * The spec's order, with one change that a burst needs: a chain returned used gives its entries
 * back to the free list when the batch is published, not when it is pushed, so that a chain
 * popped later in the same burst cannot take an entry whose chain the driver does not see as
 * used yet (the spec's step "old_free_head = free_head" at the end of every pop would otherwise
 * commit it). The {@code old_*} fields are the committed state; {@link #recover} commits a
 * batch the ring shows as published and rolls anything else back, then rebuilds the free list
 * from every entry that no chain in flight holds, so a crash can leak none.
 */
final class PackedInflight {
    static final int HEADER_SIZE = 32;
    static final int DESC_SIZE = 32;
    static final int VERSION = 1;
    private static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    private static final long VERSION_AT = 8;
    private static final long DESC_NUM = 10;
    private static final long FREE_HEAD = 12;
    private static final long OLD_FREE_HEAD = 14;
    private static final long USED_IDX = 16;
    private static final long OLD_USED_IDX = 18;
    private static final long USED_WRAP = 20;
    private static final long OLD_USED_WRAP = 21;
    private static final long D_INFLIGHT = 0;
    private static final long D_NEXT = 2;
    private static final long D_LAST = 4;
    private static final long D_NUM = 6;
    private static final long D_COUNTER = 8;
    private static final long D_ID = 16;
    private static final long D_FLAGS = 18;
    private static final long D_LEN = 20;
    private static final long D_ADDR = 24;

    private final MemorySegment region;
    private final int size;
    /** The head entries to serve again, oldest counter first. */
    private final ResubmitList resubmit;
    /** Head entries of the chains pushed used since the last publish. */
    private final int[] pending;
    private int pendingCount;
    private long counter;
    private int freeHead;
    /** Where the ring stands after recovery: the used position, and the slots the chains in flight take. */
    private int usedSlot;
    private boolean usedWrap;
    private int inflightSlots;
    private boolean fresh;

    private PackedInflight(MemorySegment region, int size) {
        this.region = region;
        this.size = size;
        this.resubmit = new ResubmitList(size);
        this.pending = new int[size];
    }

    static long regionSize(int size) {
        return HEADER_SIZE + (long) DESC_SIZE * size;
    }

    /**
     * Takes over the region of a packed queue of {@code size} over descriptor ring {@code ring}.
     * A fresh region (version 0) is initialized with the used position {@code usedSlot},
     * {@code usedWrap}; one a back-end used before is settled (see the class comment) and its
     * chains in flight queued for resubmission in counter order.
     *
     * @throws InvalidQueueException when the region holds what this layout cannot hold (garbage)
     */
    static PackedInflight recover(MemorySegment region, MemorySegment ring, int size, int usedSlot, boolean usedWrap)
            throws InvalidQueueException {
        if (region.byteSize() < regionSize(size)) {
            throw new InvalidQueueException("inflight region of " + region.byteSize() + " bytes; a packed queue of "
                    + size + " needs " + regionSize(size));
        }
        PackedInflight inflight = new PackedInflight(region, size);
        int version = Ring.u16(region, VERSION_AT);
        if (version == 0) {
            region.asSlice(0, regionSize(size)).fill((byte) 0);
            Ring.putU16(region, DESC_NUM, size);
            Ring.putU16(region, USED_IDX, usedSlot);
            Ring.putU16(region, OLD_USED_IDX, usedSlot);
            region.set(U8, USED_WRAP, (byte) (usedWrap ? 1 : 0));
            region.set(U8, OLD_USED_WRAP, (byte) (usedWrap ? 1 : 0));
            inflight.rebuildFreeList(new boolean[size]);
            Ring.putU16(region, VERSION_AT, VERSION);
            inflight.fresh = true;
            return inflight;
        }
        inflight.load(version, ring);
        return inflight;
    }

    private void load(int version, MemorySegment ring) throws InvalidQueueException {
        if (version != VERSION) {
            throw new InvalidQueueException("inflight region version " + version + "; this back-end knows " + VERSION);
        }
        int descNum = Ring.u16(region, DESC_NUM);
        if (descNum != size) {
            throw new InvalidQueueException("inflight region made for " + descNum + " descriptors, the queue has " + size);
        }
        int oldUsed = index(OLD_USED_IDX, "old_used_idx");
        boolean oldWrap = wrap(OLD_USED_WRAP);
        int used = index(USED_IDX, "used_idx");
        boolean wrap = wrap(USED_WRAP);
        boolean commit = (used != oldUsed || wrap != oldWrap)
                && PackedRing.isUsed(Ring.u16(ring, PackedRing.descOffset(oldUsed) + PackedRing.DESC_FLAGS), oldWrap);
        if (commit) {
            // The batch was published before the crash: commit it. Otherwise roll back whatever
            // was under way (a pop, or a batch not yet published).
            oldUsed = used;
            oldWrap = wrap;
        }
        usedSlot = oldUsed;
        usedWrap = oldWrap;
        Ring.putU16(region, USED_IDX, oldUsed);
        Ring.putU16(region, OLD_USED_IDX, oldUsed);
        region.set(U8, USED_WRAP, (byte) (oldWrap ? 1 : 0));
        region.set(U8, OLD_USED_WRAP, (byte) (oldWrap ? 1 : 0));
        // An entry is in flight when its head says so and the committed free list does not hold it.
        boolean[] taken = new boolean[size];
        int free = Ring.u16(region, commit ? FREE_HEAD : OLD_FREE_HEAD);
        for (int steps = 0; free < size && steps < size && !taken[free]; steps++) {
            taken[free] = true;
            free = next(free);
        }
        for (int head = 0; head < size; head++) {
            if (!taken[head] && region.get(U8, desc(head) + D_INFLIGHT) != 0) {
                resubmit.add(region.get(U64, desc(head) + D_COUNTER), head, "entry");
            }
        }
        resubmit.sort();
        // The free list's entries are not in flight, whatever their flag says: free them all again.
        Arrays.fill(taken, false);
        for (int i = 0; i < resubmit.count(); i++) {
            int head = resubmit.head(i);
            int num = Ring.u16(region, desc(head) + D_NUM);
            if (num == 0 || inflightSlots + num > size) {
                throw new InvalidQueueException("inflight region's chain at entry " + head + " has " + num
                        + " descriptors, with " + inflightSlots + " in flight before it in a queue of " + size);
            }
            int entry = head;
            for (int k = 0; k < num; k++) {
                if (entry >= size || taken[entry]) {
                    throw new InvalidQueueException("inflight region's chain at entry " + head + " runs into entry "
                            + entry + ", outside the queue or another chain's");
                }
                taken[entry] = true;
                entry = k + 1 < num ? next(entry) : entry;
            }
            inflightSlots += num;
        }
        counter = resubmit.nextCounter();
        rebuildFreeList(taken);
    }

    /** Links every entry not {@code taken} into the free list, in index order, and commits it. */
    private void rebuildFreeList(boolean[] taken) {
        int first = size;
        for (int entry = size - 1; entry >= 0; entry--) {
            if (!taken[entry]) {
                region.set(U8, desc(entry) + D_INFLIGHT, (byte) 0);
                Ring.putU16(region, desc(entry) + D_NEXT, first);
                first = entry;
            }
        }
        freeHead = first;
        Ring.putU16(region, FREE_HEAD, first);
        Ring.putU16(region, OLD_FREE_HEAD, first);
    }

    private int index(long field, String name) throws InvalidQueueException {
        int value = Ring.u16(region, field);
        if (value >= size) {
            throw new InvalidQueueException("inflight region's " + name + " " + value + " is outside a queue of " + size);
        }
        return value;
    }

    private boolean wrap(long field) throws InvalidQueueException {
        int value = region.get(U8, field);
        if (value != 0 && value != 1) {
            throw new InvalidQueueException("inflight region's wrap counter is " + value);
        }
        return value == 1;
    }

    private static long desc(int entry) {
        return HEADER_SIZE + (long) DESC_SIZE * entry;
    }

    private int next(int entry) {
        return Ring.u16(region, desc(entry) + D_NEXT);
    }

    /** Whether the region was fresh: the queue starts where the front-end said. */
    boolean fresh() {
        return fresh;
    }

    int usedSlot() {
        return usedSlot;
    }

    boolean usedWrap() {
        return usedWrap;
    }

    /** Ring slots the chains in flight took: the next available slot is this far past the used one. */
    int inflightSlots() {
        return inflightSlots;
    }

    boolean resubmitting() {
        return resubmit.pending();
    }

    /** The head entry of the next chain to serve again. */
    int nextResubmitted() {
        return resubmit.take();
    }

    /** How many descriptors the chain at head entry {@code head} holds; the next of entry {@code entry}. */
    int descriptors(int head) {
        return Ring.u16(region, desc(head) + D_NUM);
    }

    int nextEntry(int entry) {
        return next(entry);
    }

    long address(int entry) {
        return region.get(U64, desc(entry) + D_ADDR);
    }

    long length(int entry) {
        return Integer.toUnsignedLong(region.get(U32, desc(entry) + D_LEN));
    }

    int flags(int entry) {
        return Ring.u16(region, desc(entry) + D_FLAGS);
    }

    int id(int entry) {
        return Ring.u16(region, desc(entry) + D_ID);
    }

    /**
     * The chain popped into {@code chain} took {@code taken} descriptors of {@code ring} from
     * {@code slot}: copies them into entries off the free list, the head marked inflight.
     * They are read again from the ring: a driver that rewrote them meanwhile gets back what it
     * wrote, checked again when it is resubmitted.
     */
    void popped(MemorySegment ring, int slot, int taken, DescriptorChain chain) {
        resubmit.ringPopped();
        int head = freeHead;
        chain.setInflightEntry(head);
        if (head >= size) {
            // No free entry (only a driver reusing ids it has in flight gets here): not tracked.
            return;
        }
        long headAt = desc(head);
        Ring.putU16(region, headAt + D_NUM, 0);
        region.set(U64, headAt + D_COUNTER, counter++);
        region.set(U8, headAt + D_INFLIGHT, (byte) 1);
        int entry = head;
        for (int k = 0; k < taken && entry < size; k++) {
            long from = PackedRing.descOffset(slot);
            long at = desc(entry);
            region.set(U64, at + D_ADDR, ring.get(U64, from + PackedRing.DESC_ADDR));
            region.set(U32, at + D_LEN, ring.get(U32, from + PackedRing.DESC_LEN));
            Ring.putU16(region, at + D_ID, Ring.u16(ring, from + PackedRing.DESC_ID));
            Ring.putU16(region, at + D_FLAGS, Ring.u16(ring, from + PackedRing.DESC_FLAGS));
            Ring.putU16(region, headAt + D_NUM, k + 1);
            Ring.putU16(region, headAt + D_LAST, entry);
            entry = next(entry);
            Ring.putU16(region, FREE_HEAD, entry);
            if (++slot == size) {
                slot = 0;
            }
        }
        freeHead = entry;
        Ring.putU16(region, OLD_FREE_HEAD, entry);
    }

    /** @return true when the chain popped last was a resubmitted one; otherwise its pop is undone */
    boolean unpopped(DescriptorChain chain) {
        if (resubmit.unpopped()) {
            return true;
        }
        int head = chain.inflightEntry();
        if (head < size) {
            // Every later pop went back first and the used chains give their entries back only at
            // publish: the free list is as this chain's pop found it, with it at the front.
            region.set(U8, desc(head) + D_INFLIGHT, (byte) 0);
            freeHead = head;
            Ring.putU16(region, FREE_HEAD, head);
            Ring.putU16(region, OLD_FREE_HEAD, head);
            counter--;
        }
        return false;
    }

    void used(DescriptorChain chain) {
        if (chain.inflightEntry() < size) {
            pending[pendingCount++] = chain.inflightEntry();
        }
    }

    /**
     * Before the batch's first flags are stored with release: its entries go back to the free
     * list and {@code used_idx} moves to where the device's next used element goes.
     */
    void publishing(int nextUsedSlot, boolean nextUsedWrap) {
        for (int i = 0; i < pendingCount; i++) {
            int head = pending[i];
            Ring.putU16(region, desc(Ring.u16(region, desc(head) + D_LAST)) + D_NEXT, freeHead);
            freeHead = head;
        }
        Ring.putU16(region, FREE_HEAD, freeHead);
        Ring.putU16(region, USED_IDX, nextUsedSlot);
        region.set(U8, USED_WRAP, (byte) (nextUsedWrap ? 1 : 0));
    }

    /** After the release store: the batch's heads leave flight and the new state is committed. */
    void published() {
        // A reader after a crash must see the flags published before the heads cleared, and those
        // before the commit; plain stores need the fences for that order.
        VarHandle.storeStoreFence();
        for (int i = 0; i < pendingCount; i++) {
            region.set(U8, desc(pending[i]) + D_INFLIGHT, (byte) 0);
        }
        pendingCount = 0;
        VarHandle.storeStoreFence();
        Ring.putU16(region, OLD_FREE_HEAD, freeHead);
        Ring.putU16(region, OLD_USED_IDX, Ring.u16(region, USED_IDX));
        region.set(U8, OLD_USED_WRAP, region.get(U8, USED_WRAP));
        resubmit.published();
    }
}
