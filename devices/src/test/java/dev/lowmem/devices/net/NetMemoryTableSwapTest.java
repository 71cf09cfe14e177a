package dev.lowmem.devices.net;

import static dev.lowmem.devices.net.LoopbackDeviceTest.packet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.port.LoopbackPort;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A storm of memory-table changes while the virtio-net device moves frames both ways through a
 * loopback: each SET_MEM_TABLE remaps the rings under the running worker, which must back off
 * for the swap (the per-queue access lock) and carry on where it was. Every frame comes back
 * once, in order and intact, so a used entry lost or returned twice fails the test.
 */
@Timeout(120)
class NetMemoryTableSwapTest {
    private static final int SWAPS = 60;
    private static final int FRAMES_PER_ROUND = 16;
    private static final int FRAME = 300;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "packed {0}")
    @ValueSource(booleans = {false, true})
    void framesFlowThroughAStormOfMemoryTableChanges(boolean packed) throws Exception {
        long features = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_EVENT_IDX)
                | (packed ? Feature.RING_PACKED.mask() : 0);
        try (NetBackend backend = new NetBackend(dir, new LoopbackPort(1));
                NetDriver driver = NetDriver.connect(backend.socket, features)) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong frames = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread traffic = Thread.ofPlatform().name("swap-storm-traffic").start(() -> {
                try {
                    int sequence = 0;
                    while (!stop.get()) {
                        driver.postRx(FRAMES_PER_ROUND, 2048);
                        for (int i = 0; i < FRAMES_PER_ROUND; i++) {
                            driver.send(driver.plainHeader(), packet(sequence + i, FRAME));
                        }
                        for (int i = 0; i < FRAMES_PER_ROUND; i++) {
                            assertArrayEquals(packet(sequence + i, FRAME), driver.receive().packet(),
                                    "frame " + (sequence + i));
                        }
                        sequence += FRAMES_PER_ROUND;
                        frames.set(sequence);
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            int[] shapes = {1, 2, 4};
            for (int swap = 0; swap < SWAPS && failure.get() == null; swap++) {
                long before = frames.get();
                driver.resendMemoryTable(shapes[swap % shapes.length]);
                awaitProgress(frames, before, failure);
            }
            stop.set(true);
            traffic.join();
            if (failure.get() != null) {
                throw new AssertionError("traffic failed during the swaps", failure.get());
            }
            QueuePairCounters counters = backend.counters();
            assertTrue(frames.get() >= SWAPS * FRAMES_PER_ROUND, frames.get() + " frames between " + SWAPS + " swaps");
            assertEquals(frames.get(), counters.get(NetCounter.TX_FRAMES), "every frame transmitted once");
            assertEquals(frames.get(), counters.get(NetCounter.RX_FRAMES), "every frame received once");
            assertEquals(0, counters.drops());
        }
    }

    /** Waits for a round to finish after a swap, so that swaps and traffic interleave. */
    private static void awaitProgress(AtomicLong frames, long before, AtomicReference<Throwable> failure)
            throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (frames.get() == before && failure.get() == null && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
    }
}
