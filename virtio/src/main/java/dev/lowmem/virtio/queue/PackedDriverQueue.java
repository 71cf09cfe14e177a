package dev.lowmem.virtio.queue;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static dev.lowmem.virtio.queue.Ring.U32;
import static dev.lowmem.virtio.queue.Ring.U64;

/** The driver side of a packed virtqueue (virtio 1.2, 2.8.21 "Driver Notifications" and around). */
public final class PackedDriverQueue implements DriverQueue {
    private final int size;
    private final MemorySegment ring;
    private final MemorySegment driverEvent;
    private final MemorySegment deviceEvent;
    private final boolean eventIdx;
    private final IndirectTables indirect;
    private final int indirectEntries;
    private final InFlightChains inFlight;
    /** Ids not in flight, as a stack. */
    private final int[] freeIds;
    private int freeIdCount;
    private int freeCount;

    private int nextAvail;
    private boolean availWrap = true;
    private int nextUsed;
    private boolean usedWrap = true;
    /** {@link PackedRing#linear} position of {@code nextAvail} at the last publish. */
    private int publishedAvail;
    private int usedLength;

    PackedDriverQueue(int size, MemorySegment ring, MemorySegment driverEvent, MemorySegment deviceEvent,
            boolean eventIdx, IndirectTables indirect) {
        this.size = size;
        this.ring = ring;
        this.driverEvent = driverEvent;
        this.deviceEvent = deviceEvent;
        this.eventIdx = eventIdx;
        this.indirect = indirect;
        this.indirectEntries = indirect.entriesPerTable(size);
        this.inFlight = new InFlightChains(size);
        freeIds = new int[size];
        for (int i = 0; i < size; i++) {
            freeIds[i] = size - 1 - i;
        }
        freeIdCount = size;
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
        if (freeCount < needed || freeIdCount == 0) {
            return -1;
        }
        int id = freeIds[--freeIdCount];
        long headAt = PackedRing.descOffset(nextAvail);
        int headFlags;
        if (useIndirect) {
            long table = indirect.tableOffset(id, size);
            for (int i = 0; i < buffers; i++) {
                long at = table + (long) PackedRing.DESC_SIZE * i;
                writeDesc(indirect.area(), at, chain.address(i), chain.length(i), id);
                Ring.putU16(indirect.area(), at + PackedRing.DESC_FLAGS, chain.isWritable(i) ? PackedRing.F_WRITE : 0);
            }
            writeDesc(ring, headAt, indirect.address() + table, buffers * PackedRing.DESC_SIZE, id);
            headFlags = PackedRing.F_INDIRECT | PackedRing.availableFlags(availWrap);
            advance();
        } else {
            headFlags = 0;
            for (int i = 0; i < buffers; i++) {
                long at = PackedRing.descOffset(nextAvail);
                writeDesc(ring, at, chain.address(i), chain.length(i), id);
                int flags = (chain.isWritable(i) ? PackedRing.F_WRITE : 0)
                        | (i == buffers - 1 ? 0 : PackedRing.F_NEXT) | PackedRing.availableFlags(availWrap);
                if (i == 0) {
                    headFlags = flags;
                } else {
                    Ring.putU16(ring, at + PackedRing.DESC_FLAGS, flags);
                }
                advance();
            }
        }
        // Release: the chain's other descriptors are visible before the head that makes it available.
        Ring.putU16Release(ring, headAt + PackedRing.DESC_FLAGS, headFlags);
        freeCount -= needed;
        inFlight.start(id, needed);
        return id;
    }

    private static void writeDesc(MemorySegment table, long at, long address, int length, int id) {
        table.set(U64, at + PackedRing.DESC_ADDR, address);
        table.set(U32, at + PackedRing.DESC_LEN, length);
        Ring.putU16(table, at + PackedRing.DESC_ID, id);
    }

    private void advance() {
        if (++nextAvail == size) {
            nextAvail = 0;
            availWrap = !availWrap;
        }
    }

    @Override
    public boolean publish() {
        int old = publishedAvail;
        int now = PackedRing.linear(nextAvail, availWrap, size);
        if (now == old) {
            return false;
        }
        publishedAvail = now;
        // virtio 1.2, 2.8.21.3.1: the descriptors must be visible before the device's event
        // suppression is read, or a device going to sleep in between is never kicked. Store-load:
        // full fence.
        VarHandle.fullFence();
        return PackedRing.wantsNotification(deviceEvent, now, old, eventIdx, size, false);
    }

    @Override
    public int takeUsed() {
        long at = PackedRing.descOffset(nextUsed);
        // Acquire: the device writes id and len, then the flags that mark the element used.
        int flags = Ring.u16Acquire(ring, at + PackedRing.DESC_FLAGS);
        if (!PackedRing.isUsed(flags, usedWrap)) {
            return -1;
        }
        int id = Ring.u16(ring, at + PackedRing.DESC_ID);
        usedLength = ring.get(U32, at + PackedRing.DESC_LEN);
        int held = inFlight.finish(id);
        nextUsed += held;
        if (nextUsed >= size) {
            nextUsed -= size;
            usedWrap = !usedWrap;
        }
        freeCount += held;
        freeIds[freeIdCount++] = id;
        return id;
    }

    @Override
    public int usedLength() {
        return usedLength;
    }

    @Override
    public boolean enableInterrupts() {
        PackedRing.requestNotification(driverEvent, eventIdx, nextUsed, usedWrap);
        // The request must be visible before the ring is looked at again. Store-load: full fence.
        VarHandle.fullFence();
        return PackedRing.isUsed(Ring.u16Acquire(ring, PackedRing.descOffset(nextUsed) + PackedRing.DESC_FLAGS),
                usedWrap);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Counted in ring descriptors, as Linux does for packed rings: the event is the slot three
     * quarters of the descriptors in flight ahead.
     */
    @Override
    public boolean enableInterruptsDelayed() {
        if (!eventIdx) {
            return enableInterrupts();
        }
        int wait = (size - freeCount) * 3 / 4;
        int eventSlot = nextUsed + wait;
        boolean eventWrap = usedWrap;
        if (eventSlot >= size) {
            eventSlot -= size;
            eventWrap = !eventWrap;
        }
        PackedRing.requestNotification(driverEvent, true, eventSlot, eventWrap);
        // The request must be visible before the ring is looked at again. Store-load: full fence.
        VarHandle.fullFence();
        return usedSlotsVisible(wait + 1) > wait;
    }

    /** How many ring descriptors the used chains now visible cover, counting no further than {@code limit}. */
    private int usedSlotsVisible(int limit) {
        int slot = nextUsed;
        boolean wrap = usedWrap;
        int covered = 0;
        while (covered < limit) {
            long at = PackedRing.descOffset(slot);
            if (!PackedRing.isUsed(Ring.u16Acquire(ring, at + PackedRing.DESC_FLAGS), wrap)) {
                break;
            }
            int held = inFlight.held(Ring.u16(ring, at + PackedRing.DESC_ID));
            covered += held;
            slot += held;
            if (slot >= size) {
                slot -= size;
                wrap = !wrap;
            }
        }
        return covered;
    }

    @Override
    public void disableInterrupts() {
        Ring.putU16(driverEvent, PackedRing.EVENT_FLAGS, PackedRing.EVENT_DISABLE);
    }
}
