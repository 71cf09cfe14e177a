package dev.lowmem.devices.net;

import static dev.lowmem.devices.net.LoopbackDeviceTest.packet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.port.LoopbackPort;
import dev.lowmem.devices.wire.VirtioNetConfig;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.virtio.mmio.DeviceStatus;
import dev.lowmem.virtio.mmio.VirtioMmio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The embedded device over virtio-mmio, in one thread ({@link EmbeddedNetRig}) on a loopback:
 * what a Linux guest reads at probe, frames both ways, a reset that forgets what the device held
 * for the driver, and a broken ring that asks for a reset.
 */
class EmbeddedNetTest {
    private static final long FEATURES = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_EVENT_IDX,
            Feature.NET_MAC, Feature.NET_STATUS, Feature.NET_MTU);
    private static final int STATUS = 0x070;
    private static final int QUEUE_NOTIFY = 0x050;

    private EmbeddedNetRig rig;
    private MmioNetDriver driver;

    @BeforeEach
    void start() throws Exception {
        rig = new EmbeddedNetRig(new LoopbackPort(1), FEATURES);
        driver = rig.driver;
    }

    @AfterEach
    void close() {
        rig.close();
    }

    @Test
    void theConfigSpaceHoldsWhatTheDriverReadsAtProbe() {
        assertArrayEquals(NetDeviceOptions.DEFAULT_MAC.bytes(), driver.mac());
        assertEquals(VirtioNetConfig.LINK_UP, driver.configShort(VirtioNetConfig.STATUS_OFFSET));
        assertEquals(1, driver.configShort(VirtioNetConfig.MAX_VIRTQUEUE_PAIRS_OFFSET));
        assertEquals(NetDeviceOptions.DEFAULT_MTU, driver.configShort(VirtioNetConfig.MTU_OFFSET));
        assertEquals(FEATURES, rig.device.negotiatedFeatures());
    }

    @Test
    void framesGoOutAndComeBackWithAnInterruptEach() {
        driver.postRx(8, 2048);
        for (int sequence = 1; sequence <= 3; sequence++) {
            driver.enableInterrupts(MmioNetDriver.RX);
            int interrupts = rig.interrupts();
            driver.send(driver.plainHeader(), packet(sequence, 100 * sequence));
            rig.runDevice();
            assertTrue(rig.interrupts() > interrupts, "an interrupt for frame " + sequence);
            assertTrue((driver.takeInterrupt() & VirtioMmio.INTERRUPT_USED_BUFFER) != 0);
            assertArrayEquals(packet(sequence, 100 * sequence), driver.receive().packet());
        }
        assertEquals(3, rig.counters().get(NetCounter.TX_FRAMES));
        assertEquals(3, rig.counters().get(NetCounter.RX_FRAMES));
        assertEquals(0, rig.counters().drops());
    }

    @Test
    void aCycleThatSignalledTheDriverSaysSoOnceForTheWorkerToGiveWay() {
        driver.postRx(8, 2048);
        driver.enableInterrupts(MmioNetDriver.RX);
        driver.send(driver.plainHeader(), packet(1, 100));
        int interrupts = rig.interrupts();
        rig.device.doWork(0);
        assertTrue(rig.interrupts() > interrupts, "the frame came back with an interrupt");
        assertTrue(rig.device.pair(0).takeSignalled());
        assertEquals(false, rig.device.pair(0).takeSignalled(), "said once");

        rig.device.doWork(0);
        assertEquals(false, rig.device.pair(0).takeSignalled(), "a cycle with nothing to signal");
    }

    @Test
    void aResetDropsWhatTheLoopbackHeldForTheDriverThatWent() {
        driver.send(driver.plainHeader(), packet(1, 100));
        driver.send(driver.plainHeader(), packet(2, 100));
        rig.runDevice();
        assertEquals(2, rig.device.pair(0).backlog(), "no RX buffer: the loopback holds both");

        rig.mmio.write(STATUS, 4, 0);
        rig.runDevice();
        assertEquals(2, rig.counters().get(NetCounter.RX_DROP_BACKLOG));
        assertEquals(0, rig.device.pair(0).backlog());
        assertEquals(0, rig.device.negotiatedFeatures());

        MmioNetDriver next = new MmioNetDriver(rig.mmio, driver.memory(), EmbeddedNetRig.RAM_GPA);
        next.bringUp(FEATURES);
        next.postRx(4, 2048);
        rig.runDevice();
        assertNull(next.receive(), "the next driver gets none of the earlier one's frames");
    }

    @Test
    void aBrokenRingStopsItsQueueAndAsksForAReset() throws Exception {
        driver.breakTxRing(driver.txAvailIdx(FEATURES));
        rig.runDevice();
        assertEquals(1, rig.counters().get(NetCounter.TX_FAULTS));
        assertTrue((rig.mmio.read(STATUS, 4) & DeviceStatus.DEVICE_NEEDS_RESET) != 0);
        assertEquals(VirtioMmio.INTERRUPT_CONFIG_CHANGE, driver.takeInterrupt() & VirtioMmio.INTERRUPT_CONFIG_CHANGE);
        rig.mmio.write(QUEUE_NOTIFY, 4, MmioNetDriver.TX);
        assertEquals(0, rig.mmio.kick(MmioNetDriver.TX).read(), "no kick left unread for a queue nobody serves");

        MmioNetDriver next = new MmioNetDriver(rig.mmio, driver.memory(), EmbeddedNetRig.RAM_GPA);
        next.bringUp(FEATURES);
        assertEquals(0, rig.mmio.read(STATUS, 4) & DeviceStatus.DEVICE_NEEDS_RESET, "the reset cleared it");
        next.postRx(4, 2048);
        next.send(next.plainHeader(), packet(5, 64));
        rig.runDevice();
        assertArrayEquals(packet(5, 64), next.receive().packet(), "the device serves the next driver");
    }

    @Test
    void doWorkIsTheCallersOnlyWhenItChoseTo() throws Exception {
        try (VirtioNet workers = new VirtioNet(NetDeviceOptions.defaults(), new LoopbackPort(1))) {
            assertThrows(IllegalStateException.class, () -> workers.doWork(0));
        }
    }
}
