package dev.lowmem.devices.net;

import static dev.lowmem.devices.net.LoopbackDeviceTest.packet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.port.LoopbackPort;
import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.virtio.mmio.VirtioMmio;
import dev.lowmem.virtio.queue.DriverChain;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A hostile or broken guest on the embedded device, in one thread ({@link EmbeddedNetRig}), one
 * case per test: its drop counter rises by exactly one and no other, the chain comes back used
 * with length 0 and an interrupt, nothing reaches the port, and the next good frame goes through.
 * The cases of {@link DeviceBadInputTest}, which runs them over vhost-user, and the drop reasons
 * that had no device test.
 */
class EmbeddedBadInputTest {
    private static final long FEATURES = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_EVENT_IDX,
            Feature.NET_CSUM, Feature.NET_GUEST_CSUM);
    private static final long OUTSIDE_MEMORY = 1L << 40;
    /** Guest memory the driver does not use for its own buffers. */
    private static final long SPARE = EmbeddedNetRig.RAM_GPA + (7L << 20);

    private EmbeddedNetRig rig;
    private MmioNetDriver driver;
    private Map<NetCounter, Long> before;
    private int interruptsBefore;

    private void start(long features) throws Exception {
        rig = new EmbeddedNetRig(new LoopbackPort(1), features);
        driver = rig.driver;
        before = rig.snapshot();
        interruptsBefore = rig.interrupts();
    }

    @AfterEach
    void close() {
        if (rig != null) {
            rig.close();
        }
    }

    @Test
    void aTransmitBufferOutsideMemory() throws Exception {
        start(FEATURES);
        driver.sendRaw(new DriverChain(2).readable(OUTSIDE_MEMORY, 100));
        assertDroppedOnTransmit(NetCounter.TX_DROP_MALFORMED_CHAIN);
    }

    @Test
    void aTransmitChainShorterThanItsHeader() throws Exception {
        start(FEATURES);
        driver.send(new byte[4], new byte[0]);
        assertDroppedOnTransmit(NetCounter.TX_DROP_SHORT_FRAME);
    }

    @Test
    void aTransmitFrameShorterThanAnEthernetHeader() throws Exception {
        start(FEATURES);
        driver.send(driver.plainHeader(), new byte[13]);
        assertDroppedOnTransmit(NetCounter.TX_DROP_SHORT_FRAME);
    }

    @Test
    void aTransmitFrameLongerThanAnySegmentationAllows() throws Exception {
        start(FEATURES);
        driver.sendRaw(new DriverChain(2).readable(SPARE, driver.headerSize())
                .readable(SPARE + 4096, (int) TxHeaderCheck.MAX_FRAME + 1));
        assertDroppedOnTransmit(NetCounter.TX_DROP_OVERSIZED);
    }

    @Test
    void aChecksumOffsetPastTheFrame() throws Exception {
        start(FEATURES);
        driver.send(checksumHeader(90, 10), packet(1, 100));
        assertDroppedOnTransmit(NetCounter.TX_DROP_BAD_HEADER);
    }

    @Test
    void segmentationThatWasNotNegotiated() throws Exception {
        start(FEATURES);
        driver.send(LoopbackDeviceTest.tcpSegmentHeader(driver.headerSize()), packet(1, 3000));
        assertDroppedOnTransmit(NetCounter.TX_DROP_BAD_HEADER);
    }

    @Test
    void headerFlagsNoDriverMaySet() throws Exception {
        start(FEATURES);
        byte[] header = driver.plainHeader();
        header[VirtioNetHeader.FLAGS_OFFSET] = 0x40;
        driver.send(header, packet(1, 100));
        assertDroppedOnTransmit(NetCounter.TX_DROP_BAD_HEADER);
    }

    /** A loopback cannot hand a guest that takes no checksum offload a frame that needs one. */
    @Test
    void aFrameThePortRefuses() throws Exception {
        start(FEATURES & ~Feature.NET_GUEST_CSUM.mask());
        driver.send(checksumHeader(34, 16), packet(1, 100));
        assertDroppedOnTransmit(NetCounter.TX_DROP_PORT_ERROR);
    }

    @Test
    void aReceiveBufferOutsideMemory() throws Exception {
        start(FEATURES);
        driver.postRawRx(new DriverChain(1).writable(OUTSIDE_MEMORY, 2048));
        assertDroppedOnReceive(NetCounter.RX_DROP_MALFORMED_CHAIN);
        assertArrayEquals(packet(7, 200), receiveAfterPosting(), "the frame waited for a good buffer");
    }

    @Test
    void aReceiveBufferTooSmallForTheHeader() throws Exception {
        start(FEATURES);
        driver.postRawRx(new DriverChain(1).writable(SPARE, 8));
        assertDroppedOnReceive(NetCounter.RX_DROP_MALFORMED_CHAIN);
        assertArrayEquals(packet(7, 200), receiveAfterPosting(), "the frame waited for a good buffer");
    }

    /**
     * Without mergeable buffers a frame must fit one chain: one that does not is dropped, not
     * truncated, and the buffer stays the guest's for the next frame (no used entry, so no
     * interrupt: the guest's buffer was not at fault).
     */
    @Test
    void aFrameLargerThanTheReceiveBuffer() throws Exception {
        start(FEATURES & ~Feature.NET_MRG_RXBUF.mask());
        driver.postRawRx(new DriverChain(1).writable(SPARE, 100));
        driver.send(driver.plainHeader(), packet(7, 200));
        rig.runDevice();
        assertOnlyDropCounterRose(NetCounter.RX_DROP_NO_ROOM);
        assertEquals(-1, driver.takeUsed(MmioNetDriver.RX), "the buffer is kept");
        assertEquals(before.get(NetCounter.RX_INTERRUPTS), rig.counters().get(NetCounter.RX_INTERRUPTS));

        driver.send(driver.plainHeader(), packet(8, 60));
        rig.runDevice();
        assertTrue(driver.takeUsed(MmioNetDriver.RX) >= 0, "a frame that fits goes into it");
        assertEquals(driver.headerSize() + 60, driver.usedLength(MmioNetDriver.RX));
    }

    /** The frame is sent with no RX buffer posted, so the bad chain is the first the device meets. */
    private void assertDroppedOnReceive(NetCounter reason) {
        driver.send(driver.plainHeader(), packet(7, 200));
        rig.runDevice();
        assertTrue(driver.takeUsed(MmioNetDriver.RX) >= 0, "the bad chain came back");
        assertEquals(0, driver.usedLength(MmioNetDriver.RX), "with nothing written");
        assertNull(driver.receive(), "and nothing else came");
        assertInterrupted(NetCounter.RX_INTERRUPTS);
        assertOnlyDropCounterRose(reason);
    }

    private void assertDroppedOnTransmit(NetCounter reason) {
        rig.runDevice();
        assertTrue(driver.takeUsed(MmioNetDriver.TX) >= 0, "the bad chain came back");
        assertEquals(0, driver.usedLength(MmioNetDriver.TX), "with nothing written");
        assertInterrupted(NetCounter.TX_INTERRUPTS);
        assertOnlyDropCounterRose(reason);
        assertEquals(before.get(NetCounter.TX_FRAMES), rig.counters().get(NetCounter.TX_FRAMES), "frames the port took");
        assertEquals(0, rig.device.pair(0).port().backlog(), "nothing reached the port");

        driver.send(driver.plainHeader(), packet(2, 300));
        assertArrayEquals(packet(2, 300), receiveAfterPosting(), "the next good frame");
    }

    private void assertInterrupted(NetCounter queueInterrupts) {
        assertEquals(before.get(queueInterrupts) + 1, rig.counters().get(queueInterrupts), queueInterrupts.key());
        assertTrue(rig.interrupts() > interruptsBefore, "the VMM's interrupt was raised");
        assertTrue((driver.takeInterrupt() & VirtioMmio.INTERRUPT_USED_BUFFER) != 0, "InterruptStatus says used buffers");
    }

    private byte[] receiveAfterPosting() {
        driver.postRx(4, 2048);
        rig.runDevice();
        MmioNetDriver.Received received = driver.receive();
        assertNotNull(received, "a frame came");
        return received.packet();
    }

    private byte[] checksumHeader(int start, int offset) {
        byte[] header = driver.plainHeader();
        MemorySegment fields = MemorySegment.ofArray(header);
        fields.set(ValueLayout.JAVA_BYTE, VirtioNetHeader.FLAGS_OFFSET, (byte) VirtioNetHeader.F_NEEDS_CSUM);
        fields.set(VirtioNetHeader.LE16, VirtioNetHeader.CSUM_START_OFFSET, (short) start);
        fields.set(VirtioNetHeader.LE16, VirtioNetHeader.CSUM_OFFSET_OFFSET, (short) offset);
        return header;
    }

    private void assertOnlyDropCounterRose(NetCounter reason) {
        Map<NetCounter, Long> after = rig.snapshot();
        for (NetCounter counter : NetCounter.values()) {
            if (counter.isDrop()) {
                assertEquals(before.get(counter) + (counter == reason ? 1 : 0), after.get(counter), counter.key());
            }
        }
    }
}
