package dev.lowmem.virtio.queue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static dev.lowmem.virtio.queue.Ring.U64;

/**
 * The inflight bookkeeping of a split queue in its region of the front-end's INFLIGHT_SHMFD
 * buffer (docs/interop/vhost-user.rst, "Inflight I/O tracking"), so that a back-end that dies
 * mid-burst resumes with every chain it popped and had not returned:
 *
 * <pre>
 * struct QueueRegionSplit {                  struct DescStateSplit {        // 16 bytes
 *     u64 features;         //  0                u8  inflight;   // 0
 *     u16 version;          //  8                u8  padding[5];
 *     u16 desc_num;         // 10                u16 next;       // 6
 *     u16 last_batch_head;  // 12                u64 counter;    // 8
 *     u16 used_idx;         // 14            };
 *     DescStateSplit desc[desc_num];  // 16
 * };
 * </pre>
 *
 * A head popped gets the next counter and {@code inflight = 1}; a head returned used is linked
 * into the batch list ({@code next}, {@code last_batch_head}); once {@code used->idx} covering
 * the batch is published, the batch's heads are cleared and {@code used_idx} set to it. A
 * crash between the two leaves {@code used_idx} behind {@code used->idx}, and {@link #recover}
 * clears the heads of that last batch. The worker's plain stores are ordered by store-store
 * fences where a reader after a crash needs them ordered; nothing here allocates on the
 * datapath.
 */
final class SplitInflight {
    static final int HEADER_SIZE = 16;
    static final int DESC_SIZE = 16;
    static final int VERSION = 1;
    private static final long FEATURES = 0;
    private static final long VERSION_AT = 8;
    private static final long DESC_NUM = 10;
    private static final long LAST_BATCH_HEAD = 12;
    private static final long USED_IDX = 14;
    private static final long D_INFLIGHT = 0;
    private static final long D_NEXT = 6;
    private static final long D_COUNTER = 8;

    private final MemorySegment region;
    private final int size;
    /** The heads to serve again, oldest counter first. */
    private final ResubmitList resubmit;
    private long counter;
    /** Heads pushed used since the last publish. */
    private int batchSize;
    private int lastBatchHead;
    private boolean fresh;

    private SplitInflight(MemorySegment region, int size) {
        this.region = region;
        this.size = size;
        this.resubmit = new ResubmitList(size);
    }

    /** The bytes a queue of {@code size} takes, before alignment. */
    static long regionSize(int size) {
        return HEADER_SIZE + (long) DESC_SIZE * size;
    }

    /**
     * Takes over the region of a queue of {@code size} whose used ring stands at {@code usedIdx}:
     * a fresh region (version 0) is initialized; one a back-end used before is checked, its last
     * batch settled against {@code used->idx}, and its heads still inflight queued for
     * resubmission in counter order.
     *
     * @throws InvalidQueueException when the region holds what this layout cannot hold (garbage)
     */
    static SplitInflight recover(MemorySegment region, int size, int usedIdx) throws InvalidQueueException {
        if (region.byteSize() < regionSize(size)) {
            throw new InvalidQueueException("inflight region of " + region.byteSize() + " bytes; a split queue of "
                    + size + " needs " + regionSize(size));
        }
        SplitInflight inflight = new SplitInflight(region, size);
        int version = Ring.u16(region, VERSION_AT);
        if (version == 0) {
            region.asSlice(0, regionSize(size)).fill((byte) 0);
            region.set(U64, FEATURES, 0);
            Ring.putU16(region, DESC_NUM, size);
            Ring.putU16(region, USED_IDX, usedIdx);
            Ring.putU16(region, VERSION_AT, VERSION);
            inflight.fresh = true;
            return inflight;
        }
        inflight.load(version, usedIdx);
        return inflight;
    }

    private void load(int version, int usedIdx) throws InvalidQueueException {
        if (version != VERSION) {
            throw new InvalidQueueException("inflight region version " + version + "; this back-end knows " + VERSION);
        }
        int descNum = Ring.u16(region, DESC_NUM);
        if (descNum != size) {
            throw new InvalidQueueException("inflight region made for " + descNum + " descriptors, the queue has " + size);
        }
        int regionUsedIdx = Ring.u16(region, USED_IDX);
        if (regionUsedIdx != usedIdx) {
            // used->idx was published and the batch it covered not cleared yet: clear it now.
            int batch = Ring.delta(usedIdx, regionUsedIdx);
            if (batch > size) {
                throw new InvalidQueueException("inflight region's used_idx " + regionUsedIdx + " is " + batch
                        + " behind used->idx " + usedIdx + ", more than the queue's " + size);
            }
            int head = Ring.u16(region, LAST_BATCH_HEAD);
            for (int i = 0; i < batch; i++) {
                if (head >= size) {
                    throw new InvalidQueueException("inflight region's last batch names descriptor " + head
                            + ", outside a queue of " + size);
                }
                region.set(ValueLayout.JAVA_BYTE, desc(head) + D_INFLIGHT, (byte) 0);
                head = Ring.u16(region, desc(head) + D_NEXT);
            }
            Ring.putU16(region, USED_IDX, usedIdx);
        }
        for (int head = 0; head < size; head++) {
            int flag = region.get(ValueLayout.JAVA_BYTE, desc(head) + D_INFLIGHT);
            if (flag == 0) {
                continue;
            }
            if (flag != 1) {
                throw new InvalidQueueException("inflight region's descriptor " + head + " has inflight " + flag);
            }
            resubmit.add(region.get(U64, desc(head) + D_COUNTER), head, "descriptor");
        }
        resubmit.sort();
        counter = resubmit.nextCounter();
        lastBatchHead = Ring.u16(region, LAST_BATCH_HEAD);
    }

    private static long desc(int head) {
        return HEADER_SIZE + (long) DESC_SIZE * head;
    }

    /** Whether the region was fresh: the queue starts where the front-end said. */
    boolean fresh() {
        return fresh;
    }

    /** How many chains were inflight when the region was taken over: popped, so {@code last_avail_idx} is past them. */
    int inflightAtStart() {
        return resubmit.count();
    }

    /** Whether a chain waits to be served again. */
    boolean resubmitting() {
        return resubmit.pending();
    }

    /** The head of the next chain to serve again; it stays inflight under its old counter. */
    int nextResubmitted() {
        return resubmit.take();
    }

    /** A head taken from the avail ring. */
    void popped(int head) {
        resubmit.ringPopped();
        long at = desc(head);
        region.set(U64, at + D_COUNTER, counter++);
        region.set(ValueLayout.JAVA_BYTE, at + D_INFLIGHT, (byte) 1);
    }

    /**
     * The chain popped last goes back.
     *
     * @return true when it was a resubmitted chain, which the avail ring does not take back
     */
    boolean unpopped(int head) {
        if (resubmit.unpopped()) {
            return true;
        }
        region.set(ValueLayout.JAVA_BYTE, desc(head) + D_INFLIGHT, (byte) 0);
        counter--;
        return false;
    }

    /** A head returned used, not yet published: linked into the batch list. */
    void used(int head) {
        Ring.putU16(region, desc(head) + D_NEXT, lastBatchHead);
        Ring.putU16(region, LAST_BATCH_HEAD, head);
        lastBatchHead = head;
        batchSize++;
    }

    /** {@code used->idx} is {@code usedIdx} now, published: the batch's heads are no longer inflight. */
    void published(int usedIdx) {
        // A reader after a crash must not see the heads cleared before used->idx covers them.
        VarHandle.storeStoreFence();
        int head = lastBatchHead;
        for (int i = 0; i < batchSize; i++) {
            region.set(ValueLayout.JAVA_BYTE, desc(head) + D_INFLIGHT, (byte) 0);
            head = Ring.u16(region, desc(head) + D_NEXT);
        }
        batchSize = 0;
        // Nor used_idx moved before the heads are cleared: then recovery would not clear them.
        VarHandle.storeStoreFence();
        Ring.putU16(region, USED_IDX, usedIdx);
        resubmit.published();
    }
}
