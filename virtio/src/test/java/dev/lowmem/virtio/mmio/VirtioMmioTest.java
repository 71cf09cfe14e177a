package dev.lowmem.virtio.mmio;

import static dev.lowmem.virtio.mmio.MmioRegisters.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.virtio.device.ActiveQueue;
import dev.lowmem.virtio.queue.DescriptorChain;
import dev.lowmem.virtio.queue.DriverChain;
import dev.lowmem.virtio.queue.DriverQueue;
import dev.lowmem.virtio.queue.IndirectTables;
import dev.lowmem.virtio.queue.QueueConfig;
import dev.lowmem.virtio.queue.QueueLayout;
import dev.lowmem.virtio.queue.RingAddresses;
import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.memory.MappedRegion;
import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The virtio-mmio register file, one register or rule per test, on guest memory from an arena
 * placed high in guest-physical space (so the address registers' high halves count), with a
 * device that records what the transport asks of it. No thread but the test's.
 */
class VirtioMmioTest {
    private static final long RAM_GPA = 0x1_0000_0000L;
    private static final long RAM_SIZE = 1 << 20;
    private static final long FEATURES = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX);
    private static final int SIZE = 64;

    private final Arena arena = Arena.ofShared();
    private final RecordingDevice device = new RecordingDevice();
    private GuestMemory memory;
    private VirtioMmio mmio;
    private int interrupts;

    @BeforeEach
    void create() throws Exception {
        memory = GuestMemory.of(List.of(new MappedRegion(RAM_GPA, arena.allocate(RAM_SIZE, 4096))));
        mmio = new VirtioMmio(device, 1, memory, () -> interrupts++);
    }

    @AfterEach
    void close() {
        mmio.close();
        memory.close();
        arena.close();
    }

    @Test
    void identifiesAVersion2Device() {
        assertEquals(0x74726976, read(MAGIC_VALUE));
        assertEquals(2, read(VERSION));
        assertEquals(1, read(DEVICE_ID));
        assertEquals(VirtioMmio.VENDOR, read(VENDOR_ID));
        assertHealthy();
    }

    @Test
    void deviceFeaturesComeInTwoHalvesBySelector() {
        assertEquals((int) RecordingDevice.FEATURES, read(DEVICE_FEATURES));
        write(DEVICE_FEATURES_SEL, 1);
        assertEquals((int) (RecordingDevice.FEATURES >>> 32), read(DEVICE_FEATURES));
        write(DEVICE_FEATURES_SEL, 2);
        assertEquals(0, read(DEVICE_FEATURES));
    }

    @Test
    void driverFeaturesInTwoHalvesReachTheDeviceAtFeaturesOk() {
        long wanted = FEATURES | Feature.NET_MAC.mask();
        acknowledgeAndDrive();
        writeFeatures(wanted);
        write(STATUS, status() | DeviceStatus.FEATURES_OK);
        assertEquals(wanted, device.acknowledged);
        assertTrue((read(STATUS) & DeviceStatus.FEATURES_OK) != 0);
        assertHealthy();
    }

    @Test
    void featuresTheDeviceDidNotOfferLeaveFeaturesOkClear() {
        acknowledgeAndDrive();
        writeFeatures(FEATURES | Feature.RING_PACKED.mask());
        write(STATUS, status() | DeviceStatus.FEATURES_OK);
        assertEquals(0, read(STATUS) & DeviceStatus.FEATURES_OK, "the driver reads the refusal back");
        assertTrue(mmio.lastError().contains("RING_PACKED"), mmio.lastError());
    }

    @Test
    void aDriverWithoutVersion1IsRefusedFeaturesOk() {
        acknowledgeAndDrive();
        writeFeatures(Feature.RING_EVENT_IDX.mask());
        write(STATUS, status() | DeviceStatus.FEATURES_OK);
        assertEquals(0, read(STATUS) & DeviceStatus.FEATURES_OK);
        assertEquals(0, device.acknowledged);
    }

    @Test
    void featuresWrittenAfterFeaturesOkAreRefused() {
        negotiate();
        writeFeatures(FEATURES | Feature.NET_MAC.mask());
        assertNeedsReset("after FEATURES_OK");
        assertEquals(FEATURES, device.acknowledged);
    }

    @Test
    void queueNumMaxPerQueueAndZeroForOneTheDeviceLacks() {
        write(QUEUE_SEL, 1);
        assertEquals(VirtioMmio.DEFAULT_MAX_QUEUE_SIZE, read(QUEUE_NUM_MAX));
        write(QUEUE_SEL, RecordingDevice.QUEUES);
        assertEquals(0, read(QUEUE_NUM_MAX));
        assertHealthy();
    }

    @Test
    void aQueueSetUpInHalvesRunsFromDriverOkOnTheDriversRings() throws Exception {
        negotiate();
        RingAddresses rings = setUpQueue(1, RAM_GPA + 0x4000);
        assertEquals(1, read(QUEUE_READY));
        assertTrue(device.started.isEmpty(), "no queue runs before DRIVER_OK");

        DriverQueue driver = DriverQueue.create(QueueConfig.of(FEATURES, SIZE, rings), memory::translate,
                IndirectTables.none());
        int id = driver.add(new DriverChain(1).readable(RAM_GPA + 0x8000, 100), false);
        driver.publish();
        write(STATUS, status() | DeviceStatus.DRIVER_OK);

        assertEquals(1, device.started.size());
        ActiveQueue queue = device.started.getFirst();
        assertEquals(1, queue.index());
        assertTrue(queue.tryEnter());
        try {
            DescriptorChain chain = queue.rings().newChain();
            assertTrue(queue.rings().pop(chain), "the device sees the driver's chain where QueueDesc/Driver put it");
            assertEquals(id, chain.head());
        } finally {
            queue.exit();
        }
        assertHealthy();
    }

    @Test
    void queueNotifySignalsTheKickOfARunningQueue() throws Exception {
        write(QUEUE_NOTIFY, 0);
        assertEquals(0, mmio.kick(0).read(), "nothing runs the queue yet: no kick to leave unread");
        runQueue0();
        write(QUEUE_NOTIFY, 0);
        assertEquals(1, mmio.kick(0).read());
        assertEquals(0, mmio.kick(1).read());
        assertHealthy();
    }

    @Test
    void aUsedBufferInterruptSetsBit0UntilAcknowledged() throws Exception {
        ActiveQueue queue = runQueue0();
        assertTrue(queue.tryEnter());
        try {
            queue.interruptDriver();
        } finally {
            queue.exit();
        }
        assertEquals(1, interrupts);
        assertEquals(VirtioMmio.INTERRUPT_USED_BUFFER, read(INTERRUPT_STATUS));
        write(INTERRUPT_ACK, VirtioMmio.INTERRUPT_USED_BUFFER);
        assertEquals(0, read(INTERRUPT_STATUS));
        assertEquals(0, mmio.interruptStatus());
    }

    @Test
    void aQueueThatFaultsAsksForAResetWithAConfigurationInterrupt() throws Exception {
        ActiveQueue queue = runQueue0();
        assertTrue(queue.tryEnter());
        try {
            queue.fault(new IllegalStateException("guest memory went"));
        } finally {
            queue.exit();
        }
        assertTrue((read(STATUS) & DeviceStatus.DEVICE_NEEDS_RESET) != 0);
        assertEquals(VirtioMmio.INTERRUPT_CONFIG_CHANGE, read(INTERRUPT_STATUS));
        assertEquals(1, interrupts);
    }

    @Test
    void writingZeroToStatusStopsTheQueuesAndResetsTheDevice() throws Exception {
        ActiveQueue queue = runQueue0();
        mmio.kick(0).signal();
        write(STATUS, 0);

        assertEquals(0, read(STATUS));
        assertEquals(List.of(0), device.stopped);
        assertEquals(1, device.resets);
        assertFalse(queue.tryEnter(), "the stopped queue runs no burst");
        assertEquals(0, read(QUEUE_READY));
        assertEquals(0, mmio.kick(0).read(), "a kick for the driver that went is dropped");
        negotiate();
        assertEquals(FEATURES, device.acknowledged, "a new driver negotiates from the start");
    }

    @Test
    void aResetClearsDeviceNeedsReset() {
        mmio.read(MAGIC_VALUE + 2, 4);
        write(STATUS, 0);
        assertEquals(0, read(STATUS));
    }

    @Test
    void theNetConfigurationSpaceReadsInAnyFieldSize() {
        assertEquals(0x52, mmio.read(CONFIG, 1));
        assertEquals(0x5452, mmio.read(CONFIG, 2));
        assertEquals(0x12005452, mmio.read(CONFIG, 4));
        assertEquals(0x0001, mmio.read(CONFIG + 6, 2));
        mmio.write(CONFIG + 4, 2, 0x7788);
        assertEquals(0x7788, mmio.read(CONFIG + 4, 2));
        assertEquals(0, read(CONFIG_GENERATION));
        assertHealthy();
    }

    @Test
    void noSharedMemoryRegions() {
        write(SHM_SEL, 0);
        assertEquals(-1, read(SHM_LEN_LOW));
        assertEquals(-1, read(SHM_LEN_HIGH));
        assertHealthy();
    }

    // ---- bad input: refused, DEVICE_NEEDS_RESET, nothing thrown ----

    @Test
    void anUnalignedRegisterAccessIsRefused() {
        assertEquals(0, mmio.read(MAGIC_VALUE + 2, 4));
        assertNeedsReset("aligned 4-byte");
    }

    @Test
    void aNarrowRegisterWriteIsRefusedAndChangesNothing() {
        mmio.write(QUEUE_SEL, 2, 1);
        assertNeedsReset("aligned 4-byte");
        assertEquals(VirtioMmio.DEFAULT_MAX_QUEUE_SIZE, read(QUEUE_NUM_MAX), "QueueSel is still 0");
    }

    @Test
    void aReadOfAWriteOnlyRegisterIsRefused() {
        assertEquals(0, read(QUEUE_NOTIFY));
        assertNeedsReset("no readable register");
    }

    @Test
    void aWriteToAReadOnlyRegisterIsRefused() {
        write(MAGIC_VALUE, 0);
        assertNeedsReset("no writable register");
        assertEquals(0x74726976, read(MAGIC_VALUE));
    }

    @Test
    void aMisalignedOrOversizedConfigAccessIsRefused() {
        assertEquals(0, mmio.read(CONFIG + 1, 2));
        assertNeedsReset("alignment");
        assertEquals(0, mmio.read(CONFIG, 8));
    }

    @Test
    void aConfigAccessPastTheDevicesFieldsIsRefused() {
        assertEquals(0, mmio.read(CONFIG + 8, 4));
        assertNeedsReset("config range");
        mmio.write(CONFIG + 6, 2, 0);
        assertTrue(mmio.lastError().contains("only the MAC"), mmio.lastError());
    }

    @Test
    void anAccessPastTheWindowIsRefused() {
        assertEquals(0, mmio.read(VirtioMmio.WINDOW_SIZE, 4));
        assertNeedsReset("inside the window");
    }

    @Test
    void queueNumAboveQueueNumMaxIsRefused() {
        negotiate();
        write(QUEUE_NUM, VirtioMmio.DEFAULT_MAX_QUEUE_SIZE * 2);
        assertNeedsReset("QueueNumMax");
    }

    @Test
    void queueNumThatIsNoPowerOfTwoIsRefused() {
        negotiate();
        write(QUEUE_NUM, 100);
        assertNeedsReset("power of two");
    }

    @Test
    void aQueueWithRingsOutsideMemoryIsNotMadeReady() {
        negotiate();
        setUpQueue(0, 0x1000);
        assertEquals(0, read(QUEUE_READY));
        assertNeedsReset("cannot be made ready");
        assertTrue(mmio.lastError().contains("outside"), mmio.lastError());
    }

    @Test
    void aQueueWithMisalignedRingsIsNotMadeReady() {
        negotiate();
        setUpQueue(0, RAM_GPA + 0x4008);
        assertEquals(0, read(QUEUE_READY));
        assertNeedsReset("aligned");
    }

    @Test
    void queueSetupAfterDriverOkIsRefusedWithAConfigurationInterrupt() {
        runQueue0();
        write(QUEUE_SEL, 1);
        write(QUEUE_NUM, 16);
        assertNeedsReset("after DRIVER_OK");
        assertEquals(VirtioMmio.INTERRUPT_CONFIG_CHANGE, read(INTERRUPT_STATUS));
        assertEquals(1, interrupts);
        write(QUEUE_READY, 1);
        assertEquals(0, read(QUEUE_READY));
        assertEquals(1, device.started.size());
    }

    @Test
    void aReadyQueueKeepsItsRegistersUntilMadeUnready() {
        negotiate();
        setUpQueue(0, RAM_GPA + 0x4000);
        write(QUEUE_NUM, 16);
        assertNeedsReset("QueueReady 0 first");
    }

    @Test
    void queueReadyZeroBeforeDriverOkUndoesTheSetup() {
        negotiate();
        setUpQueue(0, RAM_GPA + 0x4000);
        write(QUEUE_READY, 0);
        assertEquals(0, read(QUEUE_READY));
        write(QUEUE_NUM, 16);
        write(STATUS, status() | DeviceStatus.DRIVER_OK);
        assertTrue(device.started.isEmpty(), "a queue made unready does not start");
        assertHealthy();
    }

    @Test
    void queueReadyOtherThanZeroOrOneIsRefused() {
        negotiate();
        write(QUEUE_READY, 2);
        assertNeedsReset("only 0 or 1");
    }

    @Test
    void queueReadyBeforeFeaturesOkIsRefused() {
        acknowledgeAndDrive();
        setUpQueue(0, RAM_GPA + 0x4000);
        assertEquals(0, read(QUEUE_READY));
        assertNeedsReset("before FEATURES_OK");
    }

    @Test
    void aNotifyForAQueueTheDeviceLacksIsRefused() {
        write(QUEUE_NOTIFY, RecordingDevice.QUEUES);
        assertNeedsReset("QueueNotify");
    }

    @Test
    void driverOkWithoutFeaturesOkIsRefused() {
        acknowledgeAndDrive();
        write(STATUS, status() | DeviceStatus.DRIVER_OK);
        assertNeedsReset("without FEATURES_OK");
        assertEquals(0, read(STATUS) & DeviceStatus.DRIVER_OK);
    }

    @Test
    void clearingAStatusBitIsRefused() {
        acknowledgeAndDrive();
        write(STATUS, DeviceStatus.ACKNOWLEDGE);
        assertNeedsReset("clears bits");
        assertEquals(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER, read(STATUS) & ~DeviceStatus.DEVICE_NEEDS_RESET);
    }

    @Test
    void aDeviceThatCannotStartAQueueAsksForAReset() {
        device.startRefusal = "no worker";
        negotiate();
        setUpQueue(0, RAM_GPA + 0x4000);
        write(STATUS, status() | DeviceStatus.DRIVER_OK);
        assertNeedsReset("no worker");
    }

    // ---- helpers: the driver's steps ----

    private void acknowledgeAndDrive() {
        write(STATUS, DeviceStatus.ACKNOWLEDGE);
        write(STATUS, DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
    }

    private void writeFeatures(long features) {
        write(DRIVER_FEATURES_SEL, 1);
        write(DRIVER_FEATURES, (int) (features >>> 32));
        write(DRIVER_FEATURES_SEL, 0);
        write(DRIVER_FEATURES, (int) features);
    }

    private void negotiate() {
        acknowledgeAndDrive();
        writeFeatures(FEATURES);
        write(STATUS, status() | DeviceStatus.FEATURES_OK);
    }

    private RingAddresses setUpQueue(int index, long base) {
        RingAddresses placed = RingAddresses.placeFrom(0, QueueLayout.SPLIT, SIZE);
        RingAddresses rings = new RingAddresses(base + placed.descArea(), base + placed.driverArea(),
                base + placed.deviceArea());
        write(QUEUE_SEL, index);
        write(QUEUE_NUM, SIZE);
        write(QUEUE_DESC_LOW, (int) rings.descArea());
        write(QUEUE_DESC_HIGH, (int) (rings.descArea() >>> 32));
        write(QUEUE_DRIVER_LOW, (int) rings.driverArea());
        write(QUEUE_DRIVER_HIGH, (int) (rings.driverArea() >>> 32));
        write(QUEUE_DEVICE_LOW, (int) rings.deviceArea());
        write(QUEUE_DEVICE_HIGH, (int) (rings.deviceArea() >>> 32));
        write(QUEUE_READY, 1);
        return rings;
    }

    private ActiveQueue runQueue0() {
        negotiate();
        setUpQueue(0, RAM_GPA + 0x4000);
        write(STATUS, status() | DeviceStatus.DRIVER_OK);
        assertEquals(1, device.started.size(), mmio.lastError());
        return device.started.getFirst();
    }

    private int status() {
        return read(STATUS);
    }

    private int read(int offset) {
        return mmio.read(offset, 4);
    }

    private void write(int offset, int value) {
        mmio.write(offset, 4, value);
    }

    private void assertHealthy() {
        assertNull(mmio.lastError());
        assertEquals(0, read(STATUS) & DeviceStatus.DEVICE_NEEDS_RESET);
    }

    private void assertNeedsReset(String reason) {
        assertNotNull(mmio.lastError());
        assertTrue(mmio.lastError().contains(reason), mmio.lastError());
        assertTrue((read(STATUS) & DeviceStatus.DEVICE_NEEDS_RESET) != 0, "DEVICE_NEEDS_RESET");
    }
}
