package dev.lowmem.devices.net;

import static dev.lowmem.devices.net.LoopbackDeviceTest.packet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.port.LoopbackPort;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.virtio.mmio.VirtioMmio;
import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.memory.MappedRegion;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The embedded device over virtio-mmio with the device's own worker
 * ({@link VirtioNet.Datapath#WORKERS}) instead of the VMM's thread: the worker is woken by QueueNotify's kick eventfds, the control
 * queue's among them, and raises the VMM's interrupt from its thread.
 */
class EmbeddedWorkersTest {
    private static final long RAM_GPA = 0x4000_0000L;
    private static final long FEATURES = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_EVENT_IDX,
            Feature.NET_CTRL_VQ, Feature.NET_CTRL_RX);
    private static final int STATUS = 0x070;

    private final Arena arena = Arena.ofShared();
    private final AtomicInteger interrupts = new AtomicInteger();
    private GuestMemory memory;
    private VirtioNet device;
    private VirtioMmio mmio;
    private MmioNetDriver driver;

    @BeforeEach
    void start() throws Exception {
        memory = GuestMemory.of(List.of(new MappedRegion(RAM_GPA, arena.allocate(MmioNetDriver.MEMORY_NEEDED, 4096))));
        device = VirtioNet.withControlQueue(NetDeviceOptions.defaults(), new LoopbackPort(1),
                VirtioNet.Datapath.WORKERS);
        mmio = new VirtioMmio(device, VirtioNet.DEVICE_ID, memory, interrupts::incrementAndGet);
        driver = new MmioNetDriver(mmio, memory, RAM_GPA);
        driver.bringUp(FEATURES);
        driver.postRx(16, 2048);
    }

    @AfterEach
    void close() {
        mmio.close();
        device.close();
        memory.close();
        arena.close();
    }

    @Test
    void framesGoBothWaysOnTheWorker() throws Exception {
        for (int sequence = 1; sequence <= 3; sequence++) {
            driver.send(driver.plainHeader(), packet(sequence, 200));
            assertArrayEquals(packet(sequence, 200), received());
        }
        assertTrue(interrupts.get() > 0, "the worker raised the VMM's interrupt");
        assertEquals(0, device.pair(0).counters().get(NetCounter.WORKER_ERRORS));
    }

    @Test
    void theWorkerServesTheControlQueue() throws Exception {
        driver.command(NetControl.CLASS_RX, RxFilter.PROMISC, new byte[] {0});
        int[] ack = {-1};
        Eventually.holds(() -> (ack[0] = driver.ack(1)) != -1, "the ack came back");
        assertEquals(NetControl.OK, ack[0]);

        driver.send(driver.plainHeader(), frameTo(new byte[] {0x52, 0x54, 0, 0x12, 0x34, 0x57}));
        Eventually.equals(1, () -> device.pair(0).counters().get(NetCounter.RX_FILTERED));
        byte[] ours = frameTo(NetDeviceOptions.DEFAULT_MAC.bytes());
        driver.send(driver.plainHeader(), ours);
        assertArrayEquals(ours, received(), "a frame to our address passes");
    }

    @Test
    void aResetOverTheRegistersLeavesTheWorkerServingTheNextDriver() throws Exception {
        mmio.write(STATUS, 4, 0);
        MmioNetDriver next = new MmioNetDriver(mmio, memory, RAM_GPA);
        next.bringUp(FEATURES);
        next.postRx(4, 2048);
        driver = next;
        driver.send(driver.plainHeader(), packet(9, 90));
        assertArrayEquals(packet(9, 90), received());
    }

    private byte[] received() throws Exception {
        MmioNetDriver.Received[] frame = new MmioNetDriver.Received[1];
        Eventually.holds(() -> (frame[0] = driver.receive()) != null, "a frame came");
        return frame[0].packet();
    }

    private static byte[] frameTo(byte[] destination) {
        return ByteBuffer.allocate(60).put(destination).put(NetDeviceOptions.DEFAULT_MAC.bytes())
                .putShort((short) 0x88b5).array();
    }
}
