package dev.lowmem.virtio.mmio;

import dev.lowmem.virtio.device.ActiveQueue;
import dev.lowmem.virtio.device.VirtioDevice;
import dev.lowmem.virtio.queue.DeviceQueue;
import dev.lowmem.virtio.queue.InvalidQueueException;
import dev.lowmem.virtio.queue.PackedDeviceQueue;
import dev.lowmem.virtio.queue.QueueConfig;
import dev.lowmem.virtio.queue.QueueLayout;
import dev.lowmem.virtio.queue.RingAddresses;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.event.Signal;
import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.util.Arrays;

/**
 * One virtqueue's registers behind QueueSel and its lifecycle: configured (QueueNum and the three
 * area addresses), ready (QueueReady 1: its rings checked and opened in guest memory), running
 * (DRIVER_OK: handed to the device). Its kick eventfd lives as long as the transport, so a VMM
 * may bind it once as an ioeventfd. Called under the transport's lock.
 */
final class MmioQueue implements AutoCloseable {
    /** The descriptor, driver and device areas, as QueueDesc, QueueDriver and QueueDevice number them. */
    static final int AREAS = 3;

    private final int index;
    private final int maxSize;
    private final EventFd kick;
    private int size;
    private final long[] areas = new long[AREAS];
    /** Non-null once ready. */
    private DeviceQueue rings;
    /** Non-null while the device runs the queue. */
    private ActiveQueue active;

    MmioQueue(int index, int maxSize) throws NativeIoException {
        this.index = index;
        this.maxSize = maxSize;
        this.size = maxSize;
        this.kick = EventFd.create();
    }

    int maxSize() {
        return maxSize;
    }

    EventFd kick() {
        return kick;
    }

    boolean ready() {
        return rings != null;
    }

    /** QueueNum; the caller has checked that the queue is not ready. */
    void setSize(int entries) {
        size = entries;
    }

    /** One 32-bit half of an area's 64-bit guest-physical address; the queue is not ready. */
    void setAreaHalf(int area, boolean high, int value) {
        long word = Integer.toUnsignedLong(value);
        areas[area] = high ? (areas[area] & 0xffff_ffffL) | word << 32 : (areas[area] & ~0xffff_ffffL) | word;
    }

    /**
     * QueueReady 1: checks the rings against guest memory and the negotiated layout now, so that
     * a bad address is refused at the write that made it count, not later on a worker.
     */
    void makeReady(long features, GuestMemory memory) throws InvalidQueueException {
        QueueConfig config = QueueConfig.of(features, size, new RingAddresses(areas[0], areas[1], areas[2]));
        int fresh = config.layout() == QueueLayout.PACKED ? PackedDeviceQueue.INITIAL_RING_BASE : 0;
        rings = DeviceQueue.open(config, memory, memory::translate, fresh);
    }

    /** QueueReady 0 before DRIVER_OK: the rings are forgotten, the registers kept. */
    void unready() {
        rings = null;
    }

    /** DRIVER_OK: the device serves the queue from now, if it is ready. */
    void start(VirtioDevice device, Signal call, Signal err) {
        if (rings == null) {
            return;
        }
        ActiveQueue queue = new ActiveQueue(index, rings, kick, call, err);
        try {
            device.startQueue(queue);
        } catch (RuntimeException e) {
            queue.stop();
            throw e;
        }
        active = queue;
    }

    /** Whether the device runs the queue (from DRIVER_OK to the reset). */
    boolean running() {
        return active != null;
    }

    /** Whether the device runs the queue and it has faulted. */
    boolean faulted() {
        return active != null && active.fault() != null;
    }

    /**
     * The device reset: stops the queue if it runs (no burst runs once this returns), and puts
     * the registers back to their reset values. Kicks that were not consumed are dropped.
     */
    void reset(VirtioDevice device) throws NativeIoException {
        if (active != null) {
            active.stop();
            device.stopQueue(index);
            active = null;
        }
        rings = null;
        size = maxSize;
        Arrays.fill(areas, 0);
        kick.read();
    }

    @Override
    public void close() {
        kick.close();
    }
}
