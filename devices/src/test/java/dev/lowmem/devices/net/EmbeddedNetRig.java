package dev.lowmem.devices.net;

import dev.lowmem.devices.port.Port;
import dev.lowmem.virtio.mmio.VirtioMmio;
import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.memory.MappedRegion;
import java.lang.foreign.Arena;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The device as a VMM embeds it, and its guest driver, in the test's one thread (Firecracker's
 * net TestHelper): guest memory from an arena, a {@link VirtioNet} with its control queue,
 * whose pair the rig runs ({@link VirtioNet.Datapath#CALLER}), the virtio-mmio registers, an
 * interrupt that only counts, and a {@link MmioNetDriver} brought up over them. No socket, no
 * sleep: the test posts, calls {@link #runDevice()}, and looks.
 */
final class EmbeddedNetRig implements AutoCloseable {
    /** High in guest-physical space, so the rings' high address halves count. */
    static final long RAM_GPA = 0x1_0000_0000L;

    final VirtioNet device;
    final VirtioMmio mmio;
    final MmioNetDriver driver;
    private final Arena arena = Arena.ofShared();
    private final GuestMemory memory;
    private int interrupts;

    EmbeddedNetRig(Port port, long features) throws Exception {
        this(port, NetDeviceOptions.defaults(), features);
    }

    EmbeddedNetRig(Port port, NetDeviceOptions options, long features) throws Exception {
        memory = GuestMemory.of(List.of(new MappedRegion(RAM_GPA, arena.allocate(MmioNetDriver.MEMORY_NEEDED, 4096))));
        device = VirtioNet.withControlQueue(options, port, VirtioNet.Datapath.CALLER);
        mmio = new VirtioMmio(device, VirtioNet.DEVICE_ID, memory, () -> interrupts++);
        driver = new MmioNetDriver(mmio, memory, RAM_GPA);
        driver.bringUp(features);
    }

    /**
     * Runs the pair as a VMM's datapath thread does until it would sleep: cycles until one moves
     * nothing and {@link QueuePair#prepareToSleep()} finds nothing more. What the guest posted is
     * served, whatever the port had is taken.
     */
    void runDevice() {
        runDevice(0);
    }

    void runDevice(int pair) {
        for (int cycle = 0; cycle < 64; cycle++) {
            if (device.doWork(pair) == 0 && !device.pair(pair).prepareToSleep()) {
                return;
            }
        }
    }

    /** Interrupts raised since the rig started. */
    int interrupts() {
        return interrupts;
    }

    QueuePairCounters counters() {
        return device.pair(0).counters();
    }

    Map<NetCounter, Long> snapshot() {
        Map<NetCounter, Long> values = new EnumMap<>(NetCounter.class);
        for (NetCounter counter : NetCounter.values()) {
            values.put(counter, counters().get(counter));
        }
        return values;
    }

    @Override
    public void close() {
        mmio.close();
        device.close();
        memory.close();
        arena.close();
    }
}
