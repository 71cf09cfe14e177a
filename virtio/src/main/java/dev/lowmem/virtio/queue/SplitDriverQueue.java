package dev.lowmem.virtio.queue;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static dev.lowmem.virtio.queue.Ring.U32;
import static dev.lowmem.virtio.queue.Ring.U64;

/** The driver side of a split virtqueue (virtio 1.2, 2.7.13 "Supplying Buffers to The Device"). */
public final class SplitDriverQueue implements DriverQueue {
    private final int size;
    private final int mask;
    private final MemorySegment desc;
    private final MemorySegment avail;
    private final MemorySegment used;
    private final boolean eventIdx;
    private final IndirectTables indirect;
    private final int indirectEntries;
    private final InFlightChains inFlight;
    /** The free descriptors as a list linked through this array (the ring's own next fields are the device's to read). */
    private final int[] nextFree;
    private int freeHead;
    private int freeCount;

    private int availIdx;
    private int publishedAvailIdx;
    private int lastUsedIdx;
    private int usedIdx;
    private int usedLength;

    SplitDriverQueue(int size, MemorySegment desc, MemorySegment avail, MemorySegment used, boolean eventIdx,
            IndirectTables indirect) {
        this.size = size;
        this.mask = size - 1;
        this.desc = desc;
        this.avail = avail;
        this.used = used;
        this.eventIdx = eventIdx;
        this.indirect = indirect;
        this.indirectEntries = indirect.entriesPerTable(size);
        this.inFlight = new InFlightChains(size);
        nextFree = new int[size];
        for (int i = 0; i < size; i++) {
            nextFree[i] = i + 1;
        }
        freeCount = size;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public int freeDescriptors() {
        return freeCount;
    }

    @Override
    public int add(DriverChain chain, boolean useIndirect) {
        int buffers = chain.count();
        int needed = chain.ringDescriptors(useIndirect, indirectEntries);
        if (freeCount < needed) {
            return -1;
        }
        int head = freeHead;
        if (useIndirect) {
            long table = indirect.tableOffset(head, size);
            for (int i = 0; i < buffers; i++) {
                writeDesc(indirect.area(), table + (long) SplitRing.DESC_SIZE * i, chain, i, i + 1);
            }
            writeDesc(desc, SplitRing.DESC_SIZE * (long) head, indirect.address() + table,
                    buffers * SplitRing.DESC_SIZE, SplitRing.F_INDIRECT, 0);
            freeHead = nextFree[head];
        } else {
            int d = head;
            for (int i = 0; i < buffers; i++) {
                writeDesc(desc, SplitRing.DESC_SIZE * (long) d, chain, i, nextFree[d]);
                d = nextFree[d];
            }
            freeHead = d;
        }
        freeCount -= needed;
        inFlight.start(head, needed);
        Ring.putU16(avail, SplitRing.availEntry(availIdx & mask), head);
        availIdx = (availIdx + 1) & 0xFFFF;
        return head;
    }

    private static void writeDesc(MemorySegment table, long at, DriverChain chain, int i, int next) {
        boolean last = i == chain.count() - 1;
        int flags = (chain.isWritable(i) ? SplitRing.F_WRITE : 0) | (last ? 0 : SplitRing.F_NEXT);
        writeDesc(table, at, chain.address(i), chain.length(i), flags, last ? 0 : next);
    }

    private static void writeDesc(MemorySegment table, long at, long address, int length, int flags, int next) {
        table.set(U64, at + SplitRing.DESC_ADDR, address);
        table.set(U32, at + SplitRing.DESC_LEN, length);
        Ring.putU16(table, at + SplitRing.DESC_FLAGS, flags);
        Ring.putU16(table, at + SplitRing.DESC_NEXT, next);
    }

    @Override
    public boolean publish() {
        int old = publishedAvailIdx;
        if (availIdx == old) {
            return false;
        }
        // Release: the descriptors and ring entries are visible before the index that offers them.
        Ring.putU16Release(avail, SplitRing.RING_IDX, availIdx);
        publishedAvailIdx = availIdx;
        // virtio 1.2, 2.7.13.4: avail->idx must be visible before avail_event (or the flags) are
        // read, or a device going to sleep in between is never kicked. Store-load: full fence.
        VarHandle.fullFence();
        if (eventIdx) {
            return Ring.needEvent(Ring.u16(used, SplitRing.availEvent(size)), availIdx, old, Ring.SPLIT_INDEX_MODULUS);
        }
        return (Ring.u16(used, SplitRing.RING_FLAGS) & SplitRing.USED_F_NO_NOTIFY) == 0;
    }

    @Override
    public int takeUsed() {
        if (lastUsedIdx == usedIdx) {
            // Acquire: the used elements the device wrote before publishing idx are visible.
            usedIdx = Ring.u16Acquire(used, SplitRing.RING_IDX);
            if (lastUsedIdx == usedIdx) {
                return -1;
            }
        }
        long at = SplitRing.usedElem(lastUsedIdx & mask);
        int id = used.get(U32, at + SplitRing.USED_ELEM_ID);
        usedLength = used.get(U32, at + SplitRing.USED_ELEM_LEN);
        int held = inFlight.finish(id);
        int tail = id;
        for (int i = 1; i < held; i++) {
            tail = nextFree[tail];
        }
        nextFree[tail] = freeHead;
        freeHead = id;
        freeCount += held;
        lastUsedIdx = (lastUsedIdx + 1) & 0xFFFF;
        return id;
    }

    @Override
    public int usedLength() {
        return usedLength;
    }

    @Override
    public boolean enableInterrupts() {
        if (eventIdx) {
            Ring.putU16(avail, SplitRing.usedEvent(size), lastUsedIdx);
        } else {
            Ring.putU16(avail, SplitRing.RING_FLAGS, 0);
        }
        // The request must be visible before used->idx is read again. Store-load: full fence.
        VarHandle.fullFence();
        return Ring.u16Acquire(used, SplitRing.RING_IDX) != lastUsedIdx;
    }

    @Override
    public boolean enableInterruptsDelayed() {
        if (!eventIdx) {
            return enableInterrupts();
        }
        int wait = inFlight.count() * 3 / 4;
        Ring.putU16(avail, SplitRing.usedEvent(size), (lastUsedIdx + wait) & 0xFFFF);
        // The request must be visible before used->idx is read again. Store-load: full fence.
        VarHandle.fullFence();
        return Ring.delta(Ring.u16Acquire(used, SplitRing.RING_IDX), lastUsedIdx) > wait;
    }

    @Override
    public void disableInterrupts() {
        // With EVENT_IDX a used_event left behind already asks for no more than one interrupt.
        if (!eventIdx) {
            Ring.putU16(avail, SplitRing.RING_FLAGS, SplitRing.AVAIL_F_NO_INTERRUPT);
        }
    }
}
