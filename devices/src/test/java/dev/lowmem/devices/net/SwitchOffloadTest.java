package dev.lowmem.devices.net;

import static dev.lowmem.devices.net.LoopbackDeviceTest.packet;
import static dev.lowmem.devices.net.LoopbackDeviceTest.tcpSegmentHeader;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowmem.devices.port.sw.SwitchCounter;
import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Offloads across the switch: a 64 KiB TCP segment whose checksum and segmentation are left to
 * the receiver reaches a guest that negotiated GUEST_CSUM and GUEST_TSO4 whole, its header as the
 * sender wrote it, as a Linux bridge passes TSO frames between two TAPs; a guest that did not
 * negotiate them does not get it (counted as drop_offload on its port), and still gets plain frames.
 */
@Timeout(60)
class SwitchOffloadTest {
    private static final long OFFLOADING = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.NET_CSUM,
            Feature.NET_GUEST_CSUM, Feature.NET_HOST_TSO4, Feature.NET_GUEST_TSO4, Feature.RING_EVENT_IDX);
    private static final long PLAIN = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF);
    private static final int A = 0;
    private static final int B = 1;
    private static final int C = 2;

    @TempDir
    Path dir;

    @Test
    void aSegmentLeftToTheReceiverReachesTheGuestsThatNegotiatedItAlone() throws Exception {
        try (SwitchRig rig = new SwitchRig(dir, 3)) {
            rig.awaitPoolReserve();
            try (NetDriver a = NetDriver.connect(rig.socket(A), OFFLOADING);
                    NetDriver b = NetDriver.connect(rig.socket(B), OFFLOADING);
                    NetDriver c = NetDriver.connect(rig.socket(C), PLAIN)) {
                b.postRx(120, 1536);
                c.postRx(120, 1536);
                byte[] header = tcpSegmentHeader(a.headerSize());
                // Its destination is unknown to the switch, so it is flooded to both.
                byte[] segment = packet(1, 65_000);
                a.send(header, segment);

                NetDriver.Received received = b.receive();
                assertArrayEquals(segment, received.packet());
                assertArrayEquals(Arrays.copyOf(header, VirtioNetHeader.NUM_BUFFERS_OFFSET),
                        Arrays.copyOf(received.header(), VirtioNetHeader.NUM_BUFFERS_OFFSET), "the sender's header");
                Eventually.equals(1, () -> rig.counters(C).get(SwitchCounter.DROP_OFFLOAD));

                byte[] plain = packet(2, 1000);
                a.send(a.plainHeader(), plain);
                assertArrayEquals(plain, b.receive().packet());
                assertArrayEquals(plain, c.receive().packet(), "a frame that asks nothing reaches every guest");
                assertEquals(0, rig.counters(B).drops());
            }
        }
    }
}
