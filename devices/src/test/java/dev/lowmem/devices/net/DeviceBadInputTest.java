package dev.lowmem.devices.net;

import static dev.lowmem.devices.net.LoopbackDeviceTest.packet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.port.LoopbackPort;
import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.virtio.queue.DriverChain;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hostile or broken guest, one case per test (STYLE.md 14): its drop counter rises by exactly
 * one and no other does, the chain comes back with length 0, nothing reaches the port, and the
 * next good frame goes through as if nothing happened.
 */
class DeviceBadInputTest {
    private static final long FEATURES = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_EVENT_IDX,
            Feature.NET_CSUM, Feature.NET_GUEST_CSUM);
    private static final long OUTSIDE_MEMORY = 1L << 40;

    @TempDir
    Path dir;
    private NetBackend backend;
    private NetDriver driver;
    private Map<NetCounter, Long> before;

    @BeforeEach
    void connect() throws Exception {
        backend = new NetBackend(dir, new LoopbackPort(1));
        driver = NetDriver.connect(backend.socket, FEATURES);
        before = snapshot();
    }

    @AfterEach
    void close() throws Exception {
        driver.close();
        backend.close();
    }

    @Test
    void aTransmitBufferOutsideMemory() throws Exception {
        driver.sendRaw(new DriverChain(2).readable(OUTSIDE_MEMORY, 100));
        assertDroppedOnTransmit(NetCounter.TX_DROP_MALFORMED_CHAIN);
    }

    @Test
    void aTransmitChainShorterThanItsHeader() throws Exception {
        driver.send(new byte[4], new byte[0]);
        assertDroppedOnTransmit(NetCounter.TX_DROP_SHORT_FRAME);
    }

    @Test
    void aTransmitFrameShorterThanAnEthernetHeader() throws Exception {
        driver.send(driver.plainHeader(), new byte[13]);
        assertDroppedOnTransmit(NetCounter.TX_DROP_SHORT_FRAME);
    }

    @Test
    void aChecksumOffsetPastTheFrame() throws Exception {
        byte[] header = driver.plainHeader();
        MemorySegment fields = MemorySegment.ofArray(header);
        fields.set(ValueLayout.JAVA_BYTE, VirtioNetHeader.FLAGS_OFFSET, (byte) VirtioNetHeader.F_NEEDS_CSUM);
        fields.set(VirtioNetHeader.LE16, VirtioNetHeader.CSUM_START_OFFSET, (short) 90);
        fields.set(VirtioNetHeader.LE16, VirtioNetHeader.CSUM_OFFSET_OFFSET, (short) 10);
        driver.send(header, packet(1, 100));
        assertDroppedOnTransmit(NetCounter.TX_DROP_BAD_HEADER);
    }

    @Test
    void segmentationThatWasNotNegotiated() throws Exception {
        driver.send(LoopbackDeviceTest.tcpSegmentHeader(driver.headerSize()), packet(1, 3000));
        assertDroppedOnTransmit(NetCounter.TX_DROP_BAD_HEADER);
    }

    @Test
    void headerFlagsNoDriverMaySet() throws Exception {
        byte[] header = driver.plainHeader();
        header[VirtioNetHeader.FLAGS_OFFSET] = 0x40;
        driver.send(header, packet(1, 100));
        assertDroppedOnTransmit(NetCounter.TX_DROP_BAD_HEADER);
    }

    @Test
    void aReceiveBufferOutsideMemory() throws Exception {
        driver.postRawRx(new DriverChain(1).writable(OUTSIDE_MEMORY, 2048));
        assertDroppedOnReceive();
    }

    @Test
    void aReceiveBufferTooSmallForTheHeader() throws Exception {
        driver.postRawRx(new DriverChain(1).writable(0x3F0_0000, 8));
        assertDroppedOnReceive();
    }

    @Test
    void aGuestThatRepeatsABadFrameCostsACounterNotAnAllocation() throws Exception {
        driver.send(new byte[4], new byte[0]);
        driver.awaitTxReturned(1);
        long allocatedBefore = backend.device.workerAllocatedBytes(0);
        int repeats = 1000;
        for (int i = 0; i < repeats; i++) {
            driver.send(new byte[4], new byte[0]);
        }
        driver.awaitTxReturned(1 + repeats);

        long allocated = backend.device.workerAllocatedBytes(0) - allocatedBefore;
        assertEquals(before.get(NetCounter.TX_DROP_SHORT_FRAME) + 1 + repeats,
                backend.counters().get(NetCounter.TX_DROP_SHORT_FRAME));
        // Each warning's detail string cost about 100 bytes when it was built for every frame.
        assertTrue(allocated < repeats * 8L, allocated + " bytes allocated by the worker for " + repeats + " drops");
    }

    /** The frame is sent with no RX buffer posted, so the bad chain is the first the device meets. */
    private void assertDroppedOnReceive() throws Exception {
        driver.send(driver.plainHeader(), packet(7, 200));
        int id = driver.takeUsedRx(5000);
        assertEquals(0, driver.lastRxLength(), "the bad chain " + id + " comes back empty");
        assertOnlyDropCounterRose(NetCounter.RX_DROP_MALFORMED_CHAIN);
        driver.postRx(4, 2048);
        assertArrayEquals(packet(7, 200), driver.receive().packet(), "the frame waited for a good buffer");
    }

    private void assertDroppedOnTransmit(NetCounter reason) throws Exception {
        driver.awaitTxReturned(1);
        assertOnlyDropCounterRose(reason);
        assertEquals(before.get(NetCounter.TX_FRAMES), backend.counters().get(NetCounter.TX_FRAMES),
                "frames the port took");
        assertEquals(0, backend.device.pair(0).port().backlog(), "nothing reached the port");

        driver.postRx(4, 2048);
        driver.send(driver.plainHeader(), packet(2, 300));
        assertArrayEquals(packet(2, 300), driver.receive().packet(), "the next good frame");
    }

    private void assertOnlyDropCounterRose(NetCounter reason) {
        Map<NetCounter, Long> after = snapshot();
        for (NetCounter counter : NetCounter.values()) {
            if (counter.isDrop()) {
                assertEquals(before.get(counter) + (counter == reason ? 1 : 0), after.get(counter), counter.key());
            }
        }
    }

    private Map<NetCounter, Long> snapshot() {
        Map<NetCounter, Long> values = new EnumMap<>(NetCounter.class);
        for (NetCounter counter : NetCounter.values()) {
            values.put(counter, backend.counters().get(counter));
        }
        return values;
    }
}
