package dev.lowmem.devices.net;

import static dev.lowmem.devices.net.LoopbackDeviceTest.packet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.port.LoopbackPort;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A device's capture, through the loopback port: each frame the guest sends is captured once as
 * it leaves and once as it comes back, as tcpdump then reads the file; and capturing costs the
 * worker no allocation a frame.
 */
class PacketCaptureDeviceTest {
    private static final long FEATURES = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_EVENT_IDX);

    @TempDir
    Path dir;

    @Test
    void tcpdumpReadsEachFrameOnceEachWay() throws Exception {
        Path file = dir.resolve("device.pcap");
        List<Integer> lengths = List.of(60, 600, 1514);
        try (NetBackend backend = new NetBackend(dir, new LoopbackPort(1));
                NetDriver driver = NetDriver.connect(backend.socket, FEATURES);
                PcapWriter pcap = PcapWriter.create(file, 1 << 20)) {
            backend.device.capture().start(pcap);
            driver.postRx(8, 2048);
            for (int i = 0; i < lengths.size(); i++) {
                byte[] sent = packet(i, lengths.get(i));
                driver.send(driver.plainHeader(), sent);
                assertArrayEquals(sent, driver.receive().packet());
            }
            backend.device.capture().start(null);
            assertEquals(2 * lengths.size(), pcap.records());
        }
        List<String> records = PcapWriterTest.tcpdump(file).lines().filter(line -> line.contains(", length ")).toList();
        assertEquals(2 * lengths.size(), records.size(), String.join("\n", records));
        for (int i = 0; i < records.size(); i++) {
            int length = lengths.get(i / 2);
            assertTrue(records.get(i).contains(", length " + length + ":"), "record " + i + ": " + records.get(i));
        }
    }

    @Test
    void capturingCostsTheWorkerNoAllocationAFrame() throws Exception {
        try (NetBackend backend = new NetBackend(dir, new LoopbackPort(1));
                NetDriver driver = NetDriver.connect(backend.socket, FEATURES);
                PcapWriter pcap = PcapWriter.create(dir.resolve("many.pcap"), 64L << 20)) {
            backend.device.capture().start(pcap);
            byte[] frame = packet(1, 1000);
            loop(driver, frame, 200);
            long before = backend.device.workerAllocatedBytes(0);
            int frames = 1000;
            loop(driver, frame, frames);

            long allocated = backend.device.workerAllocatedBytes(0) - before;
            assertTrue(allocated < frames * 8L, allocated + " bytes allocated by the worker for " + frames + " frames");
            assertEquals(2 * (200 + frames), pcap.records());
        }
    }

    private static void loop(NetDriver driver, byte[] frame, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            driver.postRx(1, 2048);
            driver.send(driver.plainHeader(), frame);
            driver.receive();
        }
    }
}
