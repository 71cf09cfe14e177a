package dev.lowmem.virtio.queue;

import dev.lowmem.vmm.core.memory.DirtyLog;
import dev.lowmem.vmm.core.memory.GuestMemory;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static dev.lowmem.virtio.queue.Ring.U32;
import static dev.lowmem.virtio.queue.Ring.U64;

/** The device side of a split virtqueue (virtio 1.2, 2.7). */
public final class SplitDeviceQueue implements DeviceQueue {
    private final int size;
    private final int mask;
    private final MemorySegment desc;
    private final MemorySegment avail;
    private final MemorySegment used;
    private final GuestMemory memory;
    private final boolean eventIdx;
    private final IndirectTable indirectTable;

    /** The next available ring entry to take. */
    private int lastAvailIdx;
    /** {@code avail->idx} as last read: entries up to it can be taken without reading it again. */
    private int availIdx;
    /** The next used ring entry to write. */
    private int usedIdx;
    /** {@code used->idx} as last published. */
    private int publishedUsedIdx;
    /** {@code used->idx} when the driver was last asked whether it wants an interrupt. */
    private int signalledUsedIdx;
    /**
     * False until the first interrupt decision: a driver may be waiting on entries an earlier
     * session published without signalling, so the first publish always interrupts (as vhost,
     * QEMU and DPDK do).
     */
    private boolean signalledValid;
    private QueueFault fault;
    private int faultValue;
    /** Where writes are marked while the front-end logs dirty pages; null, the common case, when it does not. */
    private DirtyLog log;
    /** The used ring's guest-physical address for the log; -1 when its writes are not logged. */
    private long usedLogAddr = -1;
    /** INFLIGHT_SHMFD's bookkeeping; null, the common case, when the front-end gave no region. */
    private final SplitInflight inflight;

    SplitDeviceQueue(int size, MemorySegment desc, MemorySegment avail, MemorySegment used, GuestMemory memory,
            boolean eventIdx, int ringBase, MemorySegment inflightRegion) throws InvalidQueueException {
        this.size = size;
        this.mask = size - 1;
        this.desc = desc;
        this.avail = avail;
        this.used = used;
        this.memory = memory;
        this.eventIdx = eventIdx;
        this.indirectTable = new IndirectTable();
        lastAvailIdx = ringBase & 0xFFFF;
        availIdx = lastAvailIdx;
        // After a reconnect the used ring already holds what an earlier session published.
        usedIdx = Ring.u16Acquire(used, SplitRing.RING_IDX);
        publishedUsedIdx = usedIdx;
        signalledUsedIdx = usedIdx;
        inflight = inflightRegion == null ? null : SplitInflight.recover(inflightRegion, size, usedIdx);
        if (inflight != null && !inflight.fresh()) {
            // Every chain popped is used or in flight, whatever base the front-end restored (QEMU
            // restores used->idx after a crash, which would pop the chains in flight a second
            // time), as libvhost-user starts.
            lastAvailIdx = (usedIdx + inflight.inflightAtStart()) & 0xFFFF;
            availIdx = lastAvailIdx;
        }
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public boolean pop(DescriptorChain chain) {
        if (inflight != null && fault == null && inflight.resubmitting()) {
            // The chains a crashed back-end left in flight come first, oldest first (vhost-user,
            // "Inflight I/O tracking"); they were popped already and stay inflight until used.
            start(chain, inflight.nextResubmitted());
            return true;
        }
        if (fault != null || (lastAvailIdx == availIdx && (!readAvailIdx() || availIdx == lastAvailIdx))) {
            return false;
        }
        int head = Ring.u16(avail, SplitRing.availEntry(lastAvailIdx & mask));
        if (head >= size) {
            return fail(QueueFault.HEAD_OUT_OF_RANGE, head);
        }
        lastAvailIdx = (lastAvailIdx + 1) & 0xFFFF;
        if (inflight != null) {
            inflight.popped(head);
        }
        start(chain, head);
        return true;
    }

    private void start(DescriptorChain chain, int head) {
        chain.reset();
        chain.setHead(head);
        chain.setRingSlots(1);
        walk(chain, head);
    }

    /** Reads {@code avail->idx} into {@link #availIdx}; false, with a fault, when it is not believable. */
    private boolean readAvailIdx() {
        // Acquire: the ring entries and descriptors the driver wrote before publishing idx are visible.
        int idx = Ring.u16Acquire(avail, SplitRing.RING_IDX);
        if (Ring.delta(idx, lastAvailIdx) > size) {
            return fail(QueueFault.AVAIL_INDEX_JUMP, idx);
        }
        availIdx = idx;
        return true;
    }

    private boolean fail(QueueFault reason, int value) {
        fault = reason;
        faultValue = value;
        return false;
    }

    /**
     * Walks the chain from {@code head}, into at most one indirect table. Each descriptor is read
     * once into locals: the guest may rewrite it meanwhile. Every walk ends: a table of n entries
     * yields at most n descriptors.
     */
    private void walk(DescriptorChain chain, int head) {
        MemorySegment table = desc;
        long base = 0;
        int entries = size;
        int budget = size;
        boolean inIndirect = false;
        int index = head;
        while (true) {
            if (budget-- == 0) {
                chain.fail(ChainError.CHAIN_TOO_LONG, index, 0, 0);
                return;
            }
            long at = base + (long) SplitRing.DESC_SIZE * index;
            long address = table.get(U64, at + SplitRing.DESC_ADDR);
            long length = Integer.toUnsignedLong(table.get(U32, at + SplitRing.DESC_LEN));
            int flags = Ring.u16(table, at + SplitRing.DESC_FLAGS);
            int next = Ring.u16(table, at + SplitRing.DESC_NEXT);
            if ((flags & SplitRing.F_INDIRECT) != 0) {
                ChainError refused = inIndirect ? ChainError.INDIRECT_NESTED
                        : (flags & SplitRing.F_NEXT) != 0 ? ChainError.INDIRECT_WITH_NEXT
                        : indirectTable.locate(memory, address, length);
                if (refused != null) {
                    chain.fail(refused, index, address, length);
                    return;
                }
                table = indirectTable.region();
                base = indirectTable.base();
                entries = indirectTable.entries();
                budget = entries;
                inIndirect = true;
                index = 0;
                continue;
            }
            if (!chain.addBuffer(memory, index, address, length, (flags & SplitRing.F_WRITE) != 0)) {
                return;
            }
            if ((flags & SplitRing.F_NEXT) == 0) {
                return;
            }
            if (next >= entries) {
                chain.fail(ChainError.NEXT_OUT_OF_RANGE, index, address, length);
                return;
            }
            index = next;
        }
    }

    @Override
    public void unpop(DescriptorChain chain) {
        if (inflight != null && inflight.unpopped(chain.head())) {
            return;
        }
        lastAvailIdx = (lastAvailIdx - 1) & 0xFFFF;
    }

    @Override
    public void pushUsed(DescriptorChain chain, int writtenLength) {
        chain.checkWrittenLength(writtenLength);
        long at = SplitRing.usedElem(usedIdx & mask);
        used.set(U32, at + SplitRing.USED_ELEM_ID, chain.head());
        used.set(U32, at + SplitRing.USED_ELEM_LEN, writtenLength);
        usedIdx = (usedIdx + 1) & 0xFFFF;
        if (inflight != null) {
            inflight.used(chain.head());
        }
        if (log != null) {
            chain.logWritten(log, memory, writtenLength);
            logUsed(at, SplitRing.USED_ELEM_SIZE);
        }
    }

    /** Marks {@code length} bytes at {@code offset} of the used ring, if the used ring is logged. */
    private void logUsed(long offset, long length) {
        if (usedLogAddr >= 0) {
            log.mark(usedLogAddr + offset, length);
        }
    }

    @Override
    public void setWriteLog(DirtyLog log, long deviceAreaLogAddr) {
        this.log = log;
        this.usedLogAddr = log == null ? -1 : deviceAreaLogAddr;
    }

    @Override
    public void publishUsed() {
        if (usedIdx != publishedUsedIdx) {
            // Release: the used elements stored above are visible before the index that covers them.
            Ring.putU16Release(used, SplitRing.RING_IDX, usedIdx);
            publishedUsedIdx = usedIdx;
            if (inflight != null) {
                inflight.published(usedIdx);
            }
            if (log != null) {
                logUsed(SplitRing.RING_IDX, Short.BYTES);
            }
        }
    }

    @Override
    public boolean needsInterrupt() {
        // virtio 1.2, 2.7.10: used->idx must be visible before used_event (or the flags) are read,
        // or a driver re-arming in between is missed. A store-load order needs the full fence.
        VarHandle.fullFence();
        int old = signalledUsedIdx;
        signalledUsedIdx = publishedUsedIdx;
        if (!signalledValid && publishedUsedIdx != old) {
            signalledValid = true;
            return true;
        }
        if (eventIdx) {
            int usedEvent = Ring.u16(avail, SplitRing.usedEvent(size));
            return Ring.needEvent(usedEvent, publishedUsedIdx, old, Ring.SPLIT_INDEX_MODULUS);
        }
        return publishedUsedIdx != old
                && (Ring.u16(avail, SplitRing.RING_FLAGS) & SplitRing.AVAIL_F_NO_INTERRUPT) == 0;
    }

    /**
     * {@inheritDoc}
     *
     * <p>The kick is asked for at the last {@code avail->idx} seen, not at {@code last_avail_idx}:
     * after RX gave chains back with {@link #unpop} for want of room, it waits for the driver to
     * add more, not for the ones it already has.
     */
    @Override
    public boolean enableNotifications() {
        if (fault != null) {
            return false;
        }
        int seen = availIdx;
        if (eventIdx) {
            Ring.putU16(used, SplitRing.availEvent(size), seen);
        } else {
            Ring.putU16(used, SplitRing.RING_FLAGS, 0);
        }
        if (log != null) {
            logUsed(eventIdx ? SplitRing.availEvent(size) : SplitRing.RING_FLAGS, Short.BYTES);
        }
        // The request above must be visible before avail->idx is read again (virtio 1.2, 2.7.10):
        // otherwise a chain published in between is seen by neither side. Store-load: full fence.
        VarHandle.fullFence();
        return readAvailIdx() && availIdx != seen;
    }

    @Override
    public void disableNotifications() {
        // With EVENT_IDX an avail_event left behind already asks for no more than one kick.
        if (!eventIdx) {
            Ring.putU16(used, SplitRing.RING_FLAGS, SplitRing.USED_F_NO_NOTIFY);
            if (log != null) {
                logUsed(SplitRing.RING_FLAGS, Short.BYTES);
            }
        }
    }

    @Override
    public int ringBase() {
        return lastAvailIdx;
    }

    @Override
    public QueueFault fault() {
        return fault;
    }

    @Override
    public String describeFault() {
        return fault == null ? "no fault" : fault.description() + ": " + faultValue
                + " (last_avail_idx " + lastAvailIdx + ", queue size " + size + ")";
    }
}
