package dev.lowmem.virtio.queue;

import dev.lowmem.vmm.core.memory.DirtyLog;
import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.memory.Translation;

import java.lang.foreign.MemorySegment;

/**
 * The device's side of a virtqueue, whichever its layout. One worker owns a queue; nothing here
 * is thread-safe.
 *
 * <p>A burst goes:
 * <pre>{@code
 * while (n < BURST && queue.pop(chain)) {          // avail->idx is read (acquire) once per batch
 *     int written = chain.error() == null ? process(chain) : dropAndCount(chain);
 *     queue.pushUsed(chain, written);              // plain stores
 * }
 * queue.publishUsed();                             // one release store
 * if (queue.needsInterrupt()) call.signal();       // fence, then used_event / flags
 * }</pre>
 * and before sleeping: {@code if (queue.enableNotifications()) } there is more work, go again.
 *
 * <p>Nothing a guest writes makes these methods throw: a malformed chain comes out of
 * {@link #pop} with {@link DescriptorChain#error()} set; a ring left with no sound position sets
 * {@link #fault()} and stops popping.
 */
public sealed interface DeviceQueue permits SplitDeviceQueue, PackedDeviceQueue {

    /**
     * Checks the rings (size a power of two up to {@link QueueLayout#MAX_SIZE}, each area aligned
     * and wholly inside one region of memory) and starts the queue at {@code ringBase}, the
     * position vhost-user's SET_VRING_BASE carries (see {@link #ringBase()}).
     *
     * <p>A queue that starts may have chains waiting for which the kick came before it existed:
     * pop once at once. Its
     * first {@link #needsInterrupt()} after publishing says yes whatever the driver asked, for a
     * driver may be waiting on entries an earlier session published without signalling.
     */
    static DeviceQueue open(QueueConfig config, GuestMemory memory, RingMemory ringMemory, int ringBase)
            throws InvalidQueueException {
        return open(config, memory, ringMemory, ringBase, null);
    }

    /**
     * As {@link #open(QueueConfig, GuestMemory, RingMemory, int)}, with the queue's region of the
     * front-end's inflight buffer (vhost-user's INFLIGHT_SHMFD), or null for none: the queue
     * records there every chain it pops until the driver can see it used. A fresh region (version
     * 0) is initialized; one a back-end used before decides where the queue starts, and the
     * chains it still holds in flight are popped first, in the order they were first popped.
     * Without a region the datapath pays one null check per pop, push and publish.
     *
     * @throws InvalidQueueException also when the region is too small or holds garbage
     */
    static DeviceQueue open(QueueConfig config, GuestMemory memory, RingMemory ringMemory, int ringBase,
            MemorySegment inflightRegion) throws InvalidQueueException {
        int size = config.size();
        if (!QueueLayout.isValidSize(size)) {
            throw new InvalidQueueException("queue size " + size + " is not a power of two from 1 to "
                    + QueueLayout.MAX_SIZE);
        }
        QueueLayout layout = config.layout();
        RingAddresses rings = config.rings();
        MemorySegment desc = area(ringMemory, "descriptor area", rings.descArea(), layout.descAreaSize(size),
                layout.descAlignment());
        MemorySegment driver = area(ringMemory, "driver area", rings.driverArea(), layout.driverAreaSize(size),
                layout.driverAlignment());
        MemorySegment device = area(ringMemory, "device area", rings.deviceArea(), layout.deviceAreaSize(size),
                layout.deviceAlignment());
        return switch (layout) {
            case SPLIT -> new SplitDeviceQueue(size, desc, driver, device, memory, config.eventIdx(), ringBase,
                    inflightRegion);
            case PACKED -> new PackedDeviceQueue(size, desc, driver, device, memory, config.eventIdx(), ringBase,
                    inflightRegion);
        };
    }

    private static MemorySegment area(RingMemory ringMemory, String name, long address, long length, int alignment)
            throws InvalidQueueException {
        if ((address & (alignment - 1)) != 0) {
            throw new InvalidQueueException(name + " at 0x" + Long.toHexString(address) + " is not "
                    + alignment + "-byte aligned");
        }
        MemorySegment segment = switch (ringMemory.translate(address, length)) {
            case Translation.Mapped(MemorySegment mapped) -> mapped;
            case Translation.Fault fault -> throw new InvalidQueueException(name + " " + fault.message());
        };
        // Ring indices are read and written with aligned atomic accesses in our own mapping, which
        // is aligned like the frontend's address only if its region's mmap offset lines up.
        if ((segment.address() & (alignment - 1)) != 0) {
            throw new InvalidQueueException(name + " at 0x" + Long.toHexString(address)
                    + " lands on a host address that is not " + alignment + "-byte aligned");
        }
        return segment;
    }

    int size();

    /** A chain to pop into; make a few when the queue starts and reuse them. */
    default DescriptorChain newChain() {
        return new DescriptorChain();
    }

    /**
     * Takes the next available chain into {@code chain}.
     *
     * @return false when no chain is available or the queue has a {@link #fault()}
     */
    boolean pop(DescriptorChain chain);

    /**
     * Gives back the chain popped last, as if it had never been popped: RX takes more chains than a
     * frame needs and returns the spare ones. Chains go back in the reverse order of popping, and
     * before the next {@link #publishUsed()}.
     */
    void unpop(DescriptorChain chain);

    /**
     * Records {@code chain} as used with {@code writtenLength} bytes written into its writable
     * buffers; the driver sees it after {@link #publishUsed()}.
     *
     * @throws IllegalArgumentException when {@code writtenLength} is negative or more than the
     *         chain's writable length (a device bug, not a guest's)
     */
    void pushUsed(DescriptorChain chain, int writtenLength);

    /** Makes every chain pushed since the last call visible to the driver at once. */
    void publishUsed();

    /**
     * Whether the driver wants an interrupt for what was published since the last call: its
     * {@code used_event} (EVENT_IDX) or its flags say so. Call after {@link #publishUsed()}.
     */
    boolean needsInterrupt();

    /**
     * Asks the driver to kick when it adds a chain the device has not seen yet, then looks once
     * more. Call it when {@link #pop} found nothing, or after giving chains back with
     * {@link #unpop} because they were too few: either way the device waits for new ones.
     *
     * @return true when new chains arrived meanwhile: process them instead of sleeping
     */
    boolean enableNotifications();

    /** Tells the driver it need not kick: the device is busy polling. */
    void disableNotifications();

    /**
     * The position to resume from, as vhost-user's GET_VRING_BASE carries it: split, the next
     * available ring index ({@code last_avail_idx}); packed, bits 0-14 the next available slot,
     * bit 15 its wrap counter, bits 16-30 the next used slot and bit 31 its wrap counter.
     */
    int ringBase();

    /**
     * Logs what the device writes into guest memory from now on in {@code log} (live migration,
     * vhost's VHOST_F_LOG_ALL), or stops logging with null: the bytes of every chain returned used
     * (as far as its written length), and the device's own ring writes. Split: the used ring's
     * elements, index, flags and avail_event, marked at {@code deviceAreaLogAddr} plus their
     * offset in the ring (vhost's log_guest_addr; -1: the used ring is not logged, the spec's
     * VHOST_VRING_F_LOG clear). Packed: the descriptors written back, by the descriptor ring's
     * guest-physical address, and the device event suppression area at
     * {@code deviceAreaLogAddr}. Only while the worker cannot be in a burst (the queue's access
     * lock), and before a burst the new log is in use; with null the datapath pays one field
     * check per write.
     */
    void setWriteLog(DirtyLog log, long deviceAreaLogAddr);

    /** Null while the queue runs; otherwise why it stopped. */
    QueueFault fault();

    /** "avail idx ran ahead ...: 0x1234 after last_avail_idx 0x10"; only for logging, it allocates. */
    String describeFault();
}
