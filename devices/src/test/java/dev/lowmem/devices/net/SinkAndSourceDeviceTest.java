package dev.lowmem.devices.net;

import static dev.lowmem.devices.net.LoopbackDeviceTest.packet;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowmem.devices.port.SinkPort;
import dev.lowmem.devices.port.SourcePort;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The benchmark ports behind the whole device: a sink takes everything, a source never runs dry. */
class SinkAndSourceDeviceTest {
    private static final long FEATURES = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_EVENT_IDX,
            Feature.RING_PACKED);

    @TempDir
    Path dir;

    @ParameterizedTest(name = "copying {0}")
    @ValueSource(booleans = {false, true})
    void theSinkTakesEveryFrameAndCountsIt(boolean copying) throws Exception {
        try (NetBackend backend = new NetBackend(dir, copying ? SinkPort.copying() : SinkPort.dropping());
                NetDriver driver = NetDriver.connect(backend.socket, FEATURES)) {
            long bytes = 0;
            for (int i = 0; i < 1000; i++) {
                byte[] packet = packet(i, 60 + i % 1400);
                driver.send(driver.plainHeader(), packet);
                bytes += packet.length;
            }
            driver.awaitTxReturned(1000);
            assertEquals(1000, backend.counters().get(NetCounter.TX_FRAMES));
            assertEquals(bytes, backend.counters().get(NetCounter.TX_BYTES));
            assertEquals(0, backend.counters().get(NetCounter.RX_FRAMES));
            assertEquals(0, backend.counters().drops());
            assertEquals(0, backend.counters().get(NetCounter.TX_FAULTS));
        }
    }

    @Test
    void theSourceFillsEveryBufferInSequence() throws Exception {
        try (NetBackend backend = new NetBackend(dir, new SourcePort(128, 1));
                NetDriver driver = NetDriver.connect(backend.socket, FEATURES)) {
            ValueLayout.OfLong sequence = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
            for (long expected = 0; expected < 2000; expected++) {
                if (expected % 200 == 0) {
                    driver.fillRx(2048);
                }
                NetDriver.Received frame = driver.receive();
                assertEquals(128, frame.packet().length);
                assertEquals(1, frame.buffers());
                assertEquals(expected, MemorySegment.ofArray(frame.packet()).get(sequence, 14));
                assertEquals((byte) 0x88, frame.packet()[12]);
                assertEquals((byte) 0xB5, frame.packet()[13]);
            }
            assertEquals(0, backend.counters().drops());
        }
    }
}
