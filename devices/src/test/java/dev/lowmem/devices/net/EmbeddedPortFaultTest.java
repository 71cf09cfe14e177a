package dev.lowmem.devices.net;

import static dev.lowmem.devices.net.LoopbackDeviceTest.packet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The RX drop reason a loopback cannot cause, on the one-thread rig with a scripted port: a port
 * that fails a read or gives a frame shorter than its header. The drop is counted once, the
 * guest's buffer stays unused for the next frame, and that frame arrives whole.
 */
class EmbeddedPortFaultTest {
    private static final long FEATURES = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_EVENT_IDX);

    private final ScriptedPort port = new ScriptedPort();
    private EmbeddedNetRig rig;
    private Map<NetCounter, Long> before;

    @BeforeEach
    void start() throws Exception {
        rig = new EmbeddedNetRig(port, FEATURES);
        rig.driver.postRx(4, 2048);
        before = rig.snapshot();
    }

    @AfterEach
    void close() {
        rig.close();
    }

    @Test
    void aReadThatFails() {
        port.failNextRead();
        assertDroppedThenTheNextFramePasses();
    }

    @Test
    void aFrameShorterThanItsHeader() {
        port.offer(new byte[5]);
        assertDroppedThenTheNextFramePasses();
    }

    private void assertDroppedThenTheNextFramePasses() {
        rig.runDevice();
        assertNull(rig.driver.receive(), "no buffer used");
        Map<NetCounter, Long> after = rig.snapshot();
        for (NetCounter counter : NetCounter.values()) {
            if (counter.isDrop()) {
                assertEquals(before.get(counter) + (counter == NetCounter.RX_DROP_PORT_ERROR ? 1 : 0),
                        after.get(counter), counter.key());
            }
        }
        assertEquals(0, port.transmitted(), "nothing went to the port");

        byte[] frame = Arrays.copyOf(new byte[rig.driver.headerSize()], rig.driver.headerSize() + 100);
        System.arraycopy(packet(3, 100), 0, frame, rig.driver.headerSize(), 100);
        port.offer(frame);
        rig.runDevice();
        MmioNetDriver.Received received = rig.driver.receive();
        assertNotNull(received, "the next frame came");
        assertArrayEquals(packet(3, 100), received.packet());
    }
}
