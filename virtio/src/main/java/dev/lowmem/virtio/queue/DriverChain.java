package dev.lowmem.virtio.queue;

/**
 * The buffers of one chain as a driver posts it: guest addresses and lengths, device-readable
 * first. Reused from chain to chain: filling it allocates nothing.
 */
public final class DriverChain {
    private final long[] addresses;
    private final int[] lengths;
    private final boolean[] writable;
    private int count;

    public DriverChain(int capacity) {
        addresses = new long[capacity];
        lengths = new int[capacity];
        writable = new boolean[capacity];
    }

    public DriverChain clear() {
        count = 0;
        return this;
    }

    /** Adds a buffer the device reads (a frame to transmit). */
    public DriverChain readable(long address, int length) {
        return add(address, length, false);
    }

    /** Adds a buffer the device writes (room for a received frame). */
    public DriverChain writable(long address, int length) {
        return add(address, length, true);
    }

    private DriverChain add(long address, int length, boolean deviceWrites) {
        if (count == addresses.length) {
            throw new IllegalStateException("a chain holds at most " + addresses.length + " buffers");
        }
        addresses[count] = address;
        lengths[count] = length;
        writable[count] = deviceWrites;
        count++;
        return this;
    }

    /**
     * How many ring descriptors the chain takes: one for an indirect table, else one a buffer.
     *
     * @throws IllegalArgumentException when the chain is empty or overflows an indirect table
     */
    int ringDescriptors(boolean indirect, int indirectEntries) {
        if (count == 0 || (indirect && count > indirectEntries)) {
            throw new IllegalArgumentException("cannot post a chain of " + count + " buffers"
                    + (indirect ? " in indirect tables of " + indirectEntries + " entries" : ""));
        }
        return indirect ? 1 : count;
    }

    public int count() {
        return count;
    }

    long address(int i) {
        return addresses[i];
    }

    int length(int i) {
        return lengths[i];
    }

    boolean isWritable(int i) {
        return writable[i];
    }
}
