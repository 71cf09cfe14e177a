package dev.lowmem.virtio.queue;

import dev.lowmem.vmm.core.memory.DirtyLog;
import dev.lowmem.vmm.core.memory.GuestMemory;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static dev.lowmem.virtio.queue.Ring.U32;
import static dev.lowmem.virtio.queue.Ring.U64;

/** The device side of a packed virtqueue (virtio 1.2, 2.8). */
public final class PackedDeviceQueue implements DeviceQueue {
    /** A fresh queue: both positions at slot 0 of the first lap, whose wrap counter is 1. */
    public static final int INITIAL_RING_BASE = 0x8000_8000;
    private static final int FRESH_AVAIL_HALF_ONLY = 0x8000;

    private final int size;
    private final MemorySegment ring;
    private final MemorySegment driverEvent;
    private final MemorySegment deviceEvent;
    private final GuestMemory memory;
    private final boolean eventIdx;
    private final IndirectTable indirectTable;

    /** The next slot to take an available chain from, and the wrap counter of its lap. */
    private int availSlot;
    private boolean availWrap;
    /**
     * Ring slots given back with {@link #unpop} and not taken again: the device has seen that many
     * descriptors past {@code availSlot}.
     */
    private int unpoppedSlots;
    /** The next slot to write a used element to, and the wrap counter of its lap. */
    private int usedSlot;
    private boolean usedWrap;
    /**
     * The first used element of the batch not yet published: its flags are written last, with
     * release, so the driver sees the whole batch at once. -1 when nothing is pending.
     */
    private long pendingFlagsOffset = -1;
    private int pendingFlags;
    /** Positions ({@link PackedRing#linear}) of the last published used slot and the last one signalled. */
    private int publishedUsed;
    private int signalledUsed;
    /** False until the first interrupt decision, which says yes whatever the driver asked (see {@link DeviceQueue#open}). */
    private boolean signalledValid;
    private QueueFault fault;
    /** Where writes are marked while the front-end logs dirty pages; null, the common case, when it does not. */
    private DirtyLog log;
    /** The descriptor ring's guest-physical address, where the descriptors written back are logged. */
    private final long ringGuestPhysAddr;
    /** The device event area's address for the log; -1 when its writes are not logged. */
    private long deviceEventLogAddr = -1;
    /** INFLIGHT_SHMFD's bookkeeping; null, the common case, when the front-end gave no region. */
    private final PackedInflight inflight;

    PackedDeviceQueue(int size, MemorySegment ring, MemorySegment driverEvent, MemorySegment deviceEvent,
            GuestMemory memory, boolean eventIdx, int ringBase, MemorySegment inflightRegion)
            throws InvalidQueueException {
        this.size = size;
        this.ring = ring;
        this.driverEvent = driverEvent;
        this.deviceEvent = deviceEvent;
        this.memory = memory;
        this.eventIdx = eventIdx;
        this.indirectTable = new IndirectTable();
        // DPDK's virtio-user sends only the available half, as 0x8000 for a fresh ring: the used
        // position is then the same. Any other value carries both halves (QEMU's does).
        int usedHalf = ringBase == FRESH_AVAIL_HALF_ONLY ? ringBase : ringBase >>> 16;
        availSlot = slotOf(ringBase, "available", size);
        availWrap = (ringBase & 0x8000) != 0;
        usedSlot = slotOf(usedHalf, "used", size);
        usedWrap = (usedHalf & 0x8000) != 0;
        inflight = inflightRegion == null ? null
                : PackedInflight.recover(inflightRegion, ring, size, usedSlot, usedWrap);
        if (inflight != null && !inflight.fresh()) {
            // The region knows where the device stood better than a front-end that restored its
            // own guess; the chains in flight lie between the used and the available position.
            usedSlot = inflight.usedSlot();
            usedWrap = inflight.usedWrap();
            int linearAvail = (PackedRing.linear(usedSlot, usedWrap, size) + inflight.inflightSlots()) % (2 * size);
            availSlot = linearAvail % size;
            availWrap = linearAvail < size;
        }
        publishedUsed = PackedRing.linear(usedSlot, usedWrap, size);
        signalledUsed = publishedUsed;
        ringGuestPhysAddr = memory.guestPhysAddrOf(ring.address());
    }

    private static int slotOf(int half, String which, int size) throws InvalidQueueException {
        int slot = half & 0x7FFF;
        if (slot >= size) {
            throw new InvalidQueueException("ring base names " + which + " slot " + slot
                    + ", outside a queue of " + size);
        }
        return slot;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public boolean pop(DescriptorChain chain) {
        if (fault != null) {
            return false;
        }
        if (inflight != null && inflight.resubmitting()) {
            resubmit(chain, inflight.nextResubmitted());
            return true;
        }
        // Acquire: the driver writes a chain's other descriptors, then the head's flags with release.
        int flags = Ring.u16Acquire(ring, PackedRing.descOffset(availSlot) + PackedRing.DESC_FLAGS);
        if (!PackedRing.isAvailable(flags, availWrap)) {
            return false;
        }
        chain.reset();
        int slot = availSlot;
        boolean wrap = availWrap;
        int taken = 0;
        int id;
        while (true) {
            if (taken == size) {
                fault = QueueFault.CHAIN_WRAPS_RING;
                return false;
            }
            long at = PackedRing.descOffset(slot);
            long address = ring.get(U64, at + PackedRing.DESC_ADDR);
            long length = Integer.toUnsignedLong(ring.get(U32, at + PackedRing.DESC_LEN));
            id = Ring.u16(ring, at + PackedRing.DESC_ID);
            if (taken > 0) {
                flags = Ring.u16(ring, at + PackedRing.DESC_FLAGS);
            }
            taken++;
            if (chain.error() == null) {
                addDescriptor(chain, slot, flags, address, length);
            }
            if (++slot == size) {
                slot = 0;
                wrap = !wrap;
            }
            // Past an error the walk goes on only to find where the chain ends.
            if ((flags & PackedRing.F_NEXT) == 0) {
                break;
            }
        }
        // The buffer id travels in the chain's last descriptor.
        chain.setHead(id);
        chain.setRingSlots(taken);
        if (inflight != null) {
            inflight.popped(ring, availSlot, taken, chain);
        }
        availSlot = slot;
        availWrap = wrap;
        unpoppedSlots = Math.max(0, unpoppedSlots - taken);
        return true;
    }

    /**
     * Serves again a chain a crashed back-end left in flight, from the copies of its descriptors
     * in the inflight region (the ring's may be used elements by now), oldest first (vhost-user,
     * "Inflight I/O tracking"). It takes no ring slot: the available position is already past it.
     */
    private void resubmit(DescriptorChain chain, int head) {
        chain.reset();
        int num = inflight.descriptors(head);
        int entry = head;
        int id = 0;
        for (int k = 0; k < num; k++) {
            id = inflight.id(entry);
            if (chain.error() == null) {
                addDescriptor(chain, entry, inflight.flags(entry), inflight.address(entry), inflight.length(entry));
            }
            entry = inflight.nextEntry(entry);
        }
        chain.setHead(id);
        chain.setRingSlots(num);
        chain.setInflightEntry(head);
    }

    private void addDescriptor(DescriptorChain chain, int slot, int flags, long address, long length) {
        if ((flags & PackedRing.F_INDIRECT) == 0) {
            chain.addBuffer(memory, slot, address, length, (flags & PackedRing.F_WRITE) != 0);
            return;
        }
        ChainError refused = (flags & PackedRing.F_NEXT) != 0 ? ChainError.INDIRECT_WITH_NEXT
                : indirectTable.locate(memory, address, length);
        if (refused != null) {
            chain.fail(refused, slot, address, length);
            return;
        }
        MemorySegment table = indirectTable.region();
        long base = indirectTable.base();
        // An indirect table is a plain array: its entries are taken in order, NEXT or not.
        for (int i = 0; i < indirectTable.entries(); i++) {
            long at = base + (long) PackedRing.DESC_SIZE * i;
            long entryAddress = table.get(U64, at + PackedRing.DESC_ADDR);
            long entryLength = Integer.toUnsignedLong(table.get(U32, at + PackedRing.DESC_LEN));
            int entryFlags = Ring.u16(table, at + PackedRing.DESC_FLAGS);
            if ((entryFlags & PackedRing.F_INDIRECT) != 0) {
                chain.fail(ChainError.INDIRECT_NESTED, i, entryAddress, entryLength);
                return;
            }
            if (!chain.addBuffer(memory, i, entryAddress, entryLength, (entryFlags & PackedRing.F_WRITE) != 0)) {
                return;
            }
        }
    }

    @Override
    public void unpop(DescriptorChain chain) {
        if (inflight != null && inflight.unpopped(chain)) {
            return;
        }
        unpoppedSlots += chain.ringSlots();
        availSlot -= chain.ringSlots();
        if (availSlot < 0) {
            availSlot += size;
            availWrap = !availWrap;
        }
    }

    @Override
    public void pushUsed(DescriptorChain chain, int writtenLength) {
        chain.checkWrittenLength(writtenLength);
        long at = PackedRing.descOffset(usedSlot);
        ring.set(U32, at + PackedRing.DESC_LEN, writtenLength);
        Ring.putU16(ring, at + PackedRing.DESC_ID, chain.head());
        int flags = PackedRing.usedFlags(usedWrap) | (writtenLength > 0 ? PackedRing.F_WRITE : 0);
        if (pendingFlagsOffset < 0) {
            pendingFlagsOffset = at + PackedRing.DESC_FLAGS;
            pendingFlags = flags;
        } else {
            // Not yet visible: the driver reads used elements in order, and the batch's first is unpublished.
            Ring.putU16(ring, at + PackedRing.DESC_FLAGS, flags);
        }
        if (inflight != null) {
            inflight.used(chain);
        }
        if (log != null) {
            chain.logWritten(log, memory, writtenLength);
            logRing(at, PackedRing.DESC_SIZE);
        }
        usedSlot += chain.ringSlots();
        if (usedSlot >= size) {
            usedSlot -= size;
            usedWrap = !usedWrap;
        }
    }

    private void logRing(long offset, long length) {
        if (ringGuestPhysAddr >= 0) {
            log.mark(ringGuestPhysAddr + offset, length);
        }
    }

    private void logDeviceEvent() {
        if (deviceEventLogAddr >= 0) {
            log.mark(deviceEventLogAddr, PackedRing.EVENT_AREA_SIZE);
        }
    }

    @Override
    public void setWriteLog(DirtyLog log, long deviceAreaLogAddr) {
        this.log = log;
        this.deviceEventLogAddr = log == null ? -1 : deviceAreaLogAddr;
    }

    @Override
    public void publishUsed() {
        if (pendingFlagsOffset >= 0) {
            if (inflight != null) {
                inflight.publishing(usedSlot, usedWrap);
            }
            // Release: every element of the batch is visible before the flags that make its first one used.
            Ring.putU16Release(ring, pendingFlagsOffset, pendingFlags);
            if (inflight != null) {
                inflight.published();
            }
            if (log != null) {
                logRing(pendingFlagsOffset, Short.BYTES);
            }
            pendingFlagsOffset = -1;
            publishedUsed = PackedRing.linear(usedSlot, usedWrap, size);
        }
    }

    @Override
    public boolean needsInterrupt() {
        // virtio 1.2, 2.8.21.3: the used descriptors must be visible before the driver's event
        // suppression is read, or a driver re-enabling interrupts in between is missed. Store-load:
        // full fence.
        VarHandle.fullFence();
        int old = signalledUsed;
        signalledUsed = publishedUsed;
        if (publishedUsed == old) {
            return false;
        }
        boolean wanted = PackedRing.wantsNotification(driverEvent, publishedUsed, old, eventIdx, size, !signalledValid);
        signalledValid |= wanted;
        return wanted;
    }

    /**
     * {@inheritDoc}
     *
     * <p>The kick is asked for at the first slot past what the device has seen, chains given back
     * with {@link #unpop} included: it waits for the driver to add more, not for those.
     */
    @Override
    public boolean enableNotifications() {
        if (fault != null) {
            return false;
        }
        int seenSlot = availSlot + unpoppedSlots;
        boolean seenWrap = availWrap;
        if (seenSlot >= size) {
            seenSlot -= size;
            seenWrap = !seenWrap;
        }
        PackedRing.requestNotification(deviceEvent, eventIdx, seenSlot, seenWrap);
        if (log != null) {
            logDeviceEvent();
        }
        // The request must be visible before the ring is looked at again, or a chain made available
        // in between is seen by neither side. Store-load: full fence.
        VarHandle.fullFence();
        return PackedRing.isAvailable(
                Ring.u16Acquire(ring, PackedRing.descOffset(seenSlot) + PackedRing.DESC_FLAGS), seenWrap);
    }

    @Override
    public void disableNotifications() {
        Ring.putU16(deviceEvent, PackedRing.EVENT_FLAGS, PackedRing.EVENT_DISABLE);
        if (log != null) {
            logDeviceEvent();
        }
    }

    @Override
    public int ringBase() {
        return PackedRing.offWrap(availSlot, availWrap) | PackedRing.offWrap(usedSlot, usedWrap) << 16;
    }

    @Override
    public QueueFault fault() {
        return fault;
    }

    @Override
    public String describeFault() {
        return fault == null ? "no fault" : fault.description() + " (from slot " + availSlot + ", queue size " + size + ")";
    }
}
