package dev.lowmem.virtio.vhostuser;

import dev.lowmem.virtio.queue.InvalidQueueException;
import dev.lowmem.virtio.queue.QueueLayout;
import dev.lowmem.vmm.core.memory.Memfd;
import dev.lowmem.vmm.core.memory.SharedMapping;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.lang.foreign.MemorySegment;

/**
 * The inflight buffer of INFLIGHT_SHMFD (docs/interop/vhost-user.rst, "Inflight I/O tracking"):
 * one region per queue, {@link QueueLayout#inflightRegionSize} bytes each, queue 0 first. The
 * back-end makes it (GET_INFLIGHT_FD: a memfd, zeroed, handed to the front-end) and uses the one
 * the front-end hands back (SET_INFLIGHT_FD), which outlives a back-end that crashes: the next
 * one is given the same fd and finds there the chains the first had in flight. Control-plane
 * state; the rings write their regions from their workers.
 */
final class InflightRegion implements AutoCloseable {
    private final SharedMapping mapping;
    private final QueueLayout layout;
    private final int numQueues;
    private final int queueSize;
    private final long stride;

    private InflightRegion(SharedMapping mapping, QueueLayout layout, int numQueues, int queueSize) {
        this.mapping = mapping;
        this.layout = layout;
        this.numQueues = numQueues;
        this.queueSize = queueSize;
        this.stride = layout.inflightRegionSize(queueSize);
    }

    /** The bytes a buffer for {@code numQueues} queues of {@code queueSize} takes in {@code layout}. */
    static long size(QueueLayout layout, int numQueues, int queueSize) {
        return numQueues * layout.inflightRegionSize(queueSize);
    }

    /**
     * GET_INFLIGHT_FD: checks the counts against what the device has and makes the zeroed memfd.
     *
     * @return the reply and, in the caller's hands to send and close, the memfd
     */
    static Made create(QueueLayout layout, InflightMessage request, int maxQueues) throws VhostUserException, NativeIoException {
        checkCounts("GET_INFLIGHT_FD", request, maxQueues);
        long size = size(layout, request.numQueues(), request.queueSize());
        FileDescriptor fd = Memfd.createSealable("lowmem-vnet-inflight", size);
        return new Made(new InflightMessage(size, 0, request.numQueues(), request.queueSize()), fd);
    }

    record Made(InflightMessage reply, FileDescriptor fd) {
    }

    /**
     * SET_INFLIGHT_FD: maps the buffer the front-end hands back, after checking that it holds
     * {@code num_queues} regions of {@code queue_size} in {@code layout} and that its file has
     * the bytes. The file is sealed against shrinking where it allows, as memory regions are.
     */
    static InflightRegion map(QueueLayout layout, InflightMessage message, FileDescriptor fd, int maxQueues)
            throws VhostUserException, NativeIoException {
        checkCounts("SET_INFLIGHT_FD", message, maxQueues);
        long needed = size(layout, message.numQueues(), message.queueSize());
        if (message.mmapSize() < needed) {
            throw new VhostUserException("SET_INFLIGHT_FD: mmap_size 0x" + Long.toHexString(message.mmapSize()) + " for "
                    + message.numQueues() + " " + layout + " queues of " + message.queueSize() + "; they need 0x"
                    + Long.toHexString(needed));
        }
        Memfd.sealAgainstShrinking(fd);
        try {
            return new InflightRegion(SharedMapping.map(fd, message.mmapSize(), message.mmapOffset(), "inflight buffer"),
                    layout, message.numQueues(), message.queueSize());
        } catch (IllegalArgumentException e) {
            throw new VhostUserException("SET_INFLIGHT_FD: " + e.getMessage(), e);
        }
    }

    private static void checkCounts(String request, InflightMessage message, int maxQueues) throws VhostUserException {
        if (message.numQueues() < 1 || message.numQueues() > maxQueues) {
            throw new VhostUserException(request + ": num_queues " + message.numQueues() + "; the device has "
                    + maxQueues);
        }
        if (!QueueLayout.isValidSize(message.queueSize())) {
            throw new VhostUserException(request + ": queue_size " + message.queueSize()
                    + " is not a power of two from 1 to " + QueueLayout.MAX_SIZE);
        }
    }

    /**
     * Ring {@code index}'s region, for a ring of {@code size} in {@code ringLayout}; null when the
     * buffer has no region for it (the front-end tracks fewer queues), and the ring is not tracked.
     *
     * @throws InvalidQueueException when the ring is not what the buffer was made for
     */
    MemorySegment queue(int index, int size, QueueLayout ringLayout) throws InvalidQueueException {
        if (index >= numQueues) {
            return null;
        }
        if (ringLayout != layout || size != queueSize) {
            throw new InvalidQueueException("the inflight buffer was made for " + layout + " queues of " + queueSize
                    + ", the ring is " + ringLayout + " of " + size);
        }
        return mapping.contents().asSlice(index * stride, stride);
    }

    @Override
    public void close() {
        mapping.close();
    }
}
