package dev.lowmem.virtio.queue;

import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.memory.GuestRegion;
import dev.lowmem.vmm.core.memory.Memfd;
import dev.lowmem.vmm.core.memory.Translation;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A device queue and a driver queue on the same rings in real memfd-backed guest memory: 8 MiB
 * as two adjacent regions (0-4 MiB and 4-8 MiB, so a buffer can straddle them), nothing mapped
 * above. Rings live at {@link #RING_BASE}, indirect tables at {@link #INDIRECT_BASE}, buffers
 * from {@link #DATA_BASE}. Used by the tests here and by the benchmarks.
 */
public final class VirtqueueRig implements AutoCloseable {
    public static final long MIB = 1 << 20;
    public static final long RING_BASE = 0x1000;
    public static final long INDIRECT_BASE = MIB;
    public static final long INDIRECT_SIZE = MIB;
    public static final long DATA_BASE = 2 * MIB;
    /** Where the first region ends and the second begins. */
    public static final long REGION_BOUNDARY = 4 * MIB;
    /** The first guest-physical address past memory. */
    public static final long MEMORY_END = 8 * MIB;

    private final FileDescriptor memfd;
    private final GuestMemory memory;
    private final QueueConfig config;
    private final DeviceQueue device;
    private final DriverQueue driver;

    private VirtqueueRig(FileDescriptor memfd, GuestMemory memory, QueueConfig config, DeviceQueue device,
            DriverQueue driver) {
        this.memfd = memfd;
        this.memory = memory;
        this.config = config;
        this.device = device;
        this.driver = driver;
    }

    public static VirtqueueRig open(QueueLayout layout, int size, boolean eventIdx) throws Exception {
        FileDescriptor memfd = Memfd.create("virtqueue-rig", MEMORY_END);
        GuestMemory memory = GuestMemory.map(List.of(
                new GuestRegion(0, REGION_BOUNDARY, 0x7000_0000_0000L, 0, memfd),
                new GuestRegion(REGION_BOUNDARY, MEMORY_END - REGION_BOUNDARY, 0x7100_0000_0000L, REGION_BOUNDARY, memfd)));
        QueueConfig config = new QueueConfig(layout, size, RingAddresses.placeFrom(RING_BASE, layout, size), eventIdx);
        IndirectTables indirect = new IndirectTables(bytes(memory, INDIRECT_BASE, INDIRECT_SIZE), INDIRECT_BASE);
        DriverQueue driver = DriverQueue.create(config, memory::translate, indirect);
        int ringBase = layout == QueueLayout.PACKED ? PackedDeviceQueue.INITIAL_RING_BASE : 0;
        DeviceQueue device = DeviceQueue.open(config, memory, memory::translate, ringBase);
        return new VirtqueueRig(memfd, memory, config, device, driver);
    }

    private static MemorySegment bytes(GuestMemory memory, long address, long length) {
        return switch (memory.translate(address, length)) {
            case Translation.Mapped(MemorySegment segment) -> segment;
            case Translation.Fault fault -> throw new IllegalArgumentException(fault.message());
        };
    }

    /** Guest memory at {@code address}, as the driver writes and reads it. */
    public MemorySegment bytes(long address, long length) {
        return bytes(memory, address, length);
    }

    /** Another device queue on the same rings, resuming at {@code ringBase} (a reconnect). */
    public DeviceQueue reopenDevice(int ringBase) throws InvalidQueueException {
        return DeviceQueue.open(config, memory, memory::translate, ringBase);
    }

    public GuestMemory memory() {
        return memory;
    }

    public QueueConfig config() {
        return config;
    }

    public DeviceQueue device() {
        return device;
    }

    public DriverQueue driver() {
        return driver;
    }

    @Override
    public void close() {
        memory.close();
        memfd.close();
    }
}
