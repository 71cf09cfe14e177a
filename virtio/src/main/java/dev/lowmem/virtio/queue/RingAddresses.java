package dev.lowmem.virtio.queue;

/**
 * Where a queue's three areas are, in whatever address space the {@link RingMemory} that resolves
 * them speaks (guest-physical for an embedding VMM, the frontend's virtual addresses for
 * vhost-user).
 */
public record RingAddresses(long descArea, long driverArea, long deviceArea) {

    /**
     * Places the areas of a queue back to back from {@code base}, each aligned as its layout needs;
     * {@link #end} tells where the next free byte is.
     */
    public static RingAddresses placeFrom(long base, QueueLayout layout, int size) {
        long desc = align(base, layout.descAlignment());
        long driver = align(desc + layout.descAreaSize(size), layout.driverAlignment());
        long device = align(driver + layout.driverAreaSize(size), layout.deviceAlignment());
        return new RingAddresses(desc, driver, device);
    }

    /** The first byte after the device area of a queue placed by {@link #placeFrom}. */
    public long end(QueueLayout layout, int size) {
        return deviceArea + layout.deviceAreaSize(size);
    }

    private static long align(long address, int alignment) {
        return (address + alignment - 1) & -alignment;
    }
}
