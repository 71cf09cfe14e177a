package dev.lowmem.devices.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.port.LoopbackPort;
import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole device over a real vhost-user socket and real memfd memory, with a loopback port:
 * every frame the driver transmits must come back on RX byte for byte, header included, for
 * every combination of features that changes the datapath.
 */
class LoopbackDeviceTest {
    private static final int ROUND = 40;
    /** Where {@link #packet} writes its sequence number: the first payload byte after the Ethernet header. */
    private static final int SEQUENCE_OFFSET = 14;

    @TempDir
    Path dir;

    static Stream<Arguments> datapathVariants() {
        List<Arguments> variants = new ArrayList<>();
        for (boolean packed : new boolean[] {false, true}) {
            for (boolean mergeable : new boolean[] {false, true}) {
                for (boolean eventIdx : new boolean[] {false, true}) {
                    for (boolean indirect : new boolean[] {false, true}) {
                        long features = Feature.VERSION_1.mask()
                                | (packed ? Feature.RING_PACKED.mask() : 0)
                                | (mergeable ? Feature.NET_MRG_RXBUF.mask() : 0)
                                | (eventIdx ? Feature.RING_EVENT_IDX.mask() : 0)
                                | (indirect ? Feature.RING_INDIRECT_DESC.mask() : 0);
                        variants.add(Arguments.of(Features.describe(features), features));
                    }
                }
            }
        }
        return variants.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("datapathVariants")
    void framesComeBackByteForByte(String name, long features) throws Exception {
        boolean mergeable = Feature.NET_MRG_RXBUF.in(features);
        try (NetBackend backend = new NetBackend(dir, new LoopbackPort(1));
                NetDriver driver = NetDriver.connect(backend.socket, features)) {
            // Small buffers make mergeable frames span several; without them one buffer holds a frame.
            int bufferSize = mergeable ? 512 : 1536;
            long bytes = 0;
            for (int round = 0; round < 8; round++) {
                driver.fillRx(bufferSize);
                List<byte[]> sent = new ArrayList<>();
                for (int i = 0; i < ROUND; i++) {
                    byte[] packet = packet(round * ROUND + i, 60 + (round * ROUND + i) * 97 % 1455);
                    sent.add(packet);
                    driver.send(driver.plainHeader(), packet);
                    bytes += packet.length;
                }
                for (byte[] packet : sent) {
                    NetDriver.Received received = driver.receive();
                    assertArrayEquals(packet, received.packet());
                    assertEquals(0, received.header()[VirtioNetHeader.FLAGS_OFFSET]);
                    if (mergeable) {
                        assertEquals((driver.headerSize() + packet.length + bufferSize - 1) / bufferSize,
                                received.buffers(), "buffers for a " + packet.length + "-byte frame");
                    }
                }
            }
            QueuePairCounters counters = backend.counters();
            assertEquals(8 * ROUND, counters.get(NetCounter.TX_FRAMES));
            assertEquals(8 * ROUND, counters.get(NetCounter.RX_FRAMES));
            assertEquals(bytes, counters.get(NetCounter.TX_BYTES));
            assertEquals(bytes, counters.get(NetCounter.RX_BYTES));
            assertEquals(0, counters.drops());
        }
    }

    static Stream<Arguments> segmentationVariants() {
        return Stream.of(false, true).flatMap(packed -> Stream.of(false, true).map(mergeable -> {
            long features = Features.of(Feature.VERSION_1, Feature.NET_CSUM, Feature.NET_GUEST_CSUM,
                    Feature.NET_HOST_TSO4, Feature.NET_GUEST_TSO4, Feature.RING_EVENT_IDX)
                    | (packed ? Feature.RING_PACKED.mask() : 0) | (mergeable ? Feature.NET_MRG_RXBUF.mask() : 0);
            return Arguments.of(Features.describe(features), features);
        }));
    }

    /** A 64 KiB TCP segment with checksum and segmentation left to the receiver passes through whole. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("segmentationVariants")
    void segmentationOffloadPassesThrough(String name, long features) throws Exception {
        boolean mergeable = Feature.NET_MRG_RXBUF.in(features);
        try (NetBackend backend = new NetBackend(dir, new LoopbackPort(1));
                NetDriver driver = NetDriver.connect(backend.socket, features)) {
            int bufferSize = mergeable ? 1536 : 70_000;
            driver.postRx(mergeable ? 120 : 2, bufferSize);
            byte[] header = tcpSegmentHeader(driver.headerSize());
            for (int i = 0; i < 2; i++) {
                byte[] packet = packet(i, 65_000 + i * 500);
                driver.send(header, packet);
                NetDriver.Received received = driver.receive();
                assertArrayEquals(packet, received.packet());
                assertArrayEquals(Arrays.copyOf(header, VirtioNetHeader.NUM_BUFFERS_OFFSET),
                        Arrays.copyOf(received.header(), VirtioNetHeader.NUM_BUFFERS_OFFSET));
                assertEquals(mergeable ? (packet.length + driver.headerSize() + bufferSize - 1) / bufferSize : 1,
                        received.buffers());
            }
            assertEquals(0, backend.counters().drops());
        }
    }

    /**
     * With no RX buffers the loopback's backlog fills and TX waits for it, nothing dropped; the
     * guest's buffers then bring every frame back in order.
     */
    @Test
    void aGuestThatDoesNotReceiveHoldsItsTransmitsBackWithoutLoss() throws Exception {
        long features = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_EVENT_IDX);
        try (NetBackend backend = new NetBackend(dir, new LoopbackPort(1));
                NetDriver driver = NetDriver.connect(backend.socket, features)) {
            int frames = LoopbackPort.BACKLOG_SLOTS + 36;
            for (int i = 0; i < frames; i++) {
                driver.send(driver.plainHeader(), packet(i, 100));
            }
            driver.awaitTxReturned(LoopbackPort.BACKLOG_SLOTS);
            Eventually.holds(() -> backend.counters().get(NetCounter.TX_PORT_FULL) > 0, "TX waits for the full port");
            assertEquals(LoopbackPort.BACKLOG_SLOTS, backend.device.pair(0).port().backlog());
            assertEquals(LoopbackPort.BACKLOG_SLOTS, backend.counters().get(NetCounter.TX_FRAMES));

            driver.postRx(frames, 2048);
            for (int i = 0; i < frames; i++) {
                assertArrayEquals(packet(i, 100), driver.receive().packet(), "frame " + i);
            }
            assertEquals(frames, backend.counters().get(NetCounter.TX_FRAMES));
            assertEquals(0, backend.counters().drops());
            assertTrue(backend.counters().get(NetCounter.RX_STARVED) >= 1);
        }
    }

    /** An Ethernet frame of {@code length} bytes, its sequence number at the start of the payload. */
    static byte[] packet(int sequence, int length) {
        byte[] packet = new byte[length];
        for (int i = 0; i < length; i++) {
            packet[i] = (byte) (sequence * 31 + i);
        }
        MemorySegment.ofArray(packet).set(ValueLayout.JAVA_INT_UNALIGNED, SEQUENCE_OFFSET, sequence);
        return packet;
    }

    /** NEEDS_CSUM at the TCP checksum of an IPv4 packet, TCPV4 segmentation by 1448 bytes. */
    static byte[] tcpSegmentHeader(int size) {
        MemorySegment header = MemorySegment.ofArray(new byte[size]);
        header.set(ValueLayout.JAVA_BYTE, VirtioNetHeader.FLAGS_OFFSET, (byte) VirtioNetHeader.F_NEEDS_CSUM);
        header.set(ValueLayout.JAVA_BYTE, VirtioNetHeader.GSO_TYPE_OFFSET, (byte) VirtioNetHeader.GSO_TCPV4);
        header.set(VirtioNetHeader.LE16, VirtioNetHeader.HDR_LEN_OFFSET, (short) 66);
        header.set(VirtioNetHeader.LE16, VirtioNetHeader.GSO_SIZE_OFFSET, (short) 1448);
        header.set(VirtioNetHeader.LE16, VirtioNetHeader.CSUM_START_OFFSET, (short) 34);
        header.set(VirtioNetHeader.LE16, VirtioNetHeader.CSUM_OFFSET_OFFSET, (short) 16);
        return header.toArray(ValueLayout.JAVA_BYTE);
    }

    /** A loopback has no host side to announce on: SEND_RARP is counted as ignored, and nothing reaches the guest. */
    @org.junit.jupiter.api.Test
    void sendRarpIsIgnoredAndCounted() throws Exception {
        long features = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_EVENT_IDX);
        try (NetBackend backend = new NetBackend(dir, new LoopbackPort(1));
                NetDriver driver = NetDriver.connect(backend.socket, features)) {
            driver.postRx(8, 2048);
            driver.sendRarp(new byte[] {0x52, 0x54, 0x00, 0x12, 0x34, 0x56});
            Eventually.holds(() -> backend.counters().get(NetCounter.RARP_IGNORED) == 1, "the announcement is ignored");
            driver.send(driver.plainHeader(), packet(7, 100));
            assertArrayEquals(packet(7, 100), driver.receive().packet(), "the next frame the guest gets is its own");
            assertEquals(0, backend.counters().get(NetCounter.RARP_SENT));
            assertEquals(0, backend.counters().drops());
        }
    }
}
