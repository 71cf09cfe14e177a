package dev.lowmem.tools.loadgen;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.net.NetDeviceOptions;
import dev.lowmem.devices.net.VirtioNet;
import dev.lowmem.devices.port.LoopbackPort;
import dev.lowmem.virtio.vhostuser.VhostUserBackend;
import dev.lowmem.vmm.core.event.EventLoop;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A round of the datapath allocates nothing on the heap, both directions at once, split and
 * packed: the rounds run on the test's thread against our loopback in this JVM, measured by the
 * JVM's per-thread allocation counter (the backend's allocations are its own threads').
 */
class PairGeneratorAllocationTest {
    private static final int WARM_UP = 20_000;
    private static final int MEASURED = 100_000;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void aRoundAllocatesNothing(boolean packed) throws Exception {
        Path socket = dir.resolve("vnet.sock");
        LoadSettings settings = new LoadSettings(socket, false, Mode.BOTH, 64, Duration.ofSeconds(1), Duration.ZERO,
                packed, 1, 32, 256, true, true);
        try (EventLoop loop = EventLoop.start("allocation test");
                VirtioNet device = new VirtioNet(NetDeviceOptions.defaults(), new LoopbackPort(1));
                VhostUserBackend backend = VhostUserBackend.listen(socket, device, loop);
                FrontendSession session = FrontendSession.open(settings, line -> { })) {
            PairGenerator generator = session.generator(0);
            generator.start();
            session.enableRings();
            for (int i = 0; i < WARM_UP; i++) {
                generator.doWork();
            }
            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long framesBefore = generator.counts().rxFrames();
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < MEASURED; i++) {
                generator.doWork();
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            long frames = generator.counts().rxFrames() - framesBefore;

            assertTrue(frames > 0, "frames moved while measuring");
            // One object per round would be at least 16 bytes x MEASURED; a JIT one-off may remain.
            assertTrue(allocated < MEASURED, allocated + " bytes allocated over " + MEASURED + " rounds, " + frames
                    + " frames");
            session.stopRings();
        }
    }
}
