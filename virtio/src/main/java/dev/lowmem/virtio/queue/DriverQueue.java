package dev.lowmem.virtio.queue;

import dev.lowmem.vmm.core.memory.Translation;

import java.lang.foreign.MemorySegment;

/**
 * The driver's side of a virtqueue, whichever its layout: what a guest's virtio driver does,
 * played by our tests, benchmarks and load generator against a {@link DeviceQueue}. One thread
 * owns it.
 *
 * <pre>{@code
 * while (queue.add(chain.clear().readable(frame, length), false) >= 0) { ... }
 * if (queue.publish()) kick.signal();
 * for (int id; (id = queue.takeUsed()) >= 0; ) done(id, queue.usedLength());
 * }</pre>
 *
 * A device that breaks the protocol (returns an id that is not in flight) makes it throw
 * {@link IllegalStateException}: here the peer under test is the device.
 */
public sealed interface DriverQueue permits SplitDriverQueue, PackedDriverQueue {

    /** Zeroes the rings at {@code config.rings()} and starts a fresh queue on them. */
    static DriverQueue create(QueueConfig config, RingMemory ringMemory, IndirectTables indirect) {
        QueueLayout layout = config.layout();
        int size = config.size();
        RingAddresses rings = config.rings();
        MemorySegment desc = area(ringMemory, rings.descArea(), layout.descAreaSize(size));
        MemorySegment driver = area(ringMemory, rings.driverArea(), layout.driverAreaSize(size));
        MemorySegment device = area(ringMemory, rings.deviceArea(), layout.deviceAreaSize(size));
        return switch (layout) {
            case SPLIT -> new SplitDriverQueue(size, desc, driver, device, config.eventIdx(), indirect);
            case PACKED -> new PackedDriverQueue(size, desc, driver, device, config.eventIdx(), indirect);
        };
    }

    private static MemorySegment area(RingMemory ringMemory, long address, long length) {
        return switch (ringMemory.translate(address, length)) {
            case Translation.Mapped(MemorySegment segment) -> segment.fill((byte) 0);
            case Translation.Fault fault -> throw new IllegalArgumentException("ring area " + fault.message());
        };
    }

    int size();

    /** Descriptors free for new chains. */
    int freeDescriptors();

    /**
     * Writes a chain into the ring; the device sees it after {@link #publish()}.
     *
     * @param indirect put the buffers in an indirect table and the ring only a descriptor for it
     * @return the id the chain comes back under, or -1 when the ring has no room for it now
     */
    int add(DriverChain chain, boolean indirect);

    /**
     * Makes the chains added since the last call available to the device.
     *
     * @return whether the device asked for a kick (its {@code avail_event} or flags)
     */
    boolean publish();

    /** The next used chain's id, or -1 when the device has returned nothing more. */
    int takeUsed();

    /** The length the device wrote into the chain {@link #takeUsed()} returned last. */
    int usedLength();

    /**
     * Asks for an interrupt at the next used chain, then looks once more.
     *
     * @return true when used chains arrived meanwhile
     */
    boolean enableInterrupts();

    /**
     * Asks for an interrupt only once three quarters of the chains in flight are used (Linux's
     * {@code virtqueue_enable_cb_delayed}, which its network driver uses for transmit
     * completions), then looks once more. Without EVENT_IDX it is {@link #enableInterrupts()}.
     *
     * @return true when that many are used already: poll instead of sleeping
     */
    boolean enableInterruptsDelayed();

    /** Tells the device no interrupt is wanted: the driver is polling. */
    void disableInterrupts();
}
