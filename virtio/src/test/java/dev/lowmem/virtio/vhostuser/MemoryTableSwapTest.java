package dev.lowmem.virtio.vhostuser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.vmm.core.testing.ProcSelf;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The memory table changes under running rings while frames flow: SET_MEM_TABLE with the same
 * bytes cut into 1, 2 and 4 regions (each a new mapping, so the rings really move), and a region
 * added and removed with ADD_MEM_REG / REM_MEM_REG. Every frame's echo is checked in order, so
 * a chain lost or returned twice shows as a missing or wrong echo.
 */
@Timeout(120)
class MemoryTableSwapTest {
    private static final int SWAPS = 60;
    private static final int FRAMES_PER_ROUND = 16;
    private static final long EXTRA_SIZE = 1 << 20;

    @TempDir
    Path directory;

    @ParameterizedTest(name = "packed {0}")
    @ValueSource(booleans = {false, true})
    void theMemoryTableIsReplacedWhileFramesFlow(boolean packed) throws Exception {
        long features = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX) | (packed ? Feature.RING_PACKED.mask() : 0);
        try (BackendFixture backend = BackendFixture.listen(directory);
                EchoDriver driver = EchoDriver.create("vu-swap", features);
                FrontendMemory extra = FrontendMemory.create("vu-extra", EXTRA_SIZE)) {
            VhostUserFrontend frontend = driver.connect(backend.socket, 1);
            FrontendRegion extraRegion = new FrontendRegion(
                    new MemoryRegionMessage(EchoDriver.MEMORY_SIZE, EXTRA_SIZE, extra.userAddress(0), 0), extra.fd());
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong rounds = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread traffic = Thread.ofPlatform().name("swap-test-traffic").start(() -> {
                try {
                    while (!stop.get()) {
                        driver.roundTrip(FRAMES_PER_ROUND);
                        rounds.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            int[] shapes = {1, 2, 4};
            for (int swap = 0; swap < SWAPS && failure.get() == null; swap++) {
                long before = rounds.get();
                frontend.setMemTable(driver.memory.regions(shapes[swap % shapes.length]));
                frontend.addMemReg(extraRegion);
                frontend.remMemReg(extraRegion);
                awaitProgress(rounds, before, failure);
            }
            stop.set(true);
            traffic.join();
            if (failure.get() != null) {
                throw new AssertionError("traffic failed during the swaps", failure.get());
            }
            assertTrue(rounds.get() >= SWAPS, "frames flowed between the swaps: " + rounds.get() + " rounds");
            assertEquals(rounds.get() * FRAMES_PER_ROUND, backend.device.echoed(), "every frame echoed exactly once");
            assertEquals(1 + shapes[(SWAPS - 1) % shapes.length], ProcSelf.mappingsOf("vu-swap"),
                    "ours and the last table's regions are mapped, no older ones");
            assertEquals(1, ProcSelf.mappingsOf("vu-extra"), "the removed region is unmapped in the back-end");
        }
    }

    /**
     * QEMU keeps a vhost device per queue pair on one connection, and with CONFIGURE_MEM_SLOTS
     * each adds all of guest memory: refusing the second addition as an overlap left a
     * multiqueue guest without network. The region is mapped once and leaves with its last removal.
     */
    @Test
    void aRegionAddedOncePerQueuePairIsMappedOnceAndLeavesWithItsLastRemoval() throws Exception {
        try (BackendFixture backend = BackendFixture.listen(directory);
                EchoDriver driver = EchoDriver.create("vu-twice", Features.of(Feature.VERSION_1));
                FrontendMemory extra = FrontendMemory.create("vu-twice-extra", EXTRA_SIZE)) {
            VhostUserFrontend frontend = driver.connect(backend.socket, 1);
            FrontendRegion extraRegion = new FrontendRegion(
                    new MemoryRegionMessage(EchoDriver.MEMORY_SIZE, EXTRA_SIZE, extra.userAddress(0), 0), extra.fd());
            frontend.addMemReg(extraRegion);
            frontend.addMemReg(extraRegion);
            assertEquals(2, ProcSelf.mappingsOf("vu-twice-extra"), "ours and the back-end's one mapping");
            frontend.remMemReg(extraRegion);
            assertEquals(2, ProcSelf.mappingsOf("vu-twice-extra"), "still added by the other pair");
            driver.roundTrip(8);
            frontend.remMemReg(extraRegion);
            assertEquals(1, ProcSelf.mappingsOf("vu-twice-extra"), "gone from the back-end with its last removal");
            assertThrows(VhostUserException.class, () -> frontend.remMemReg(extraRegion));
            driver.roundTrip(8);
        }
    }

    /** Waits for a round trip to finish after a swap, so swaps and traffic interleave. */
    private static void awaitProgress(AtomicLong rounds, long before, AtomicReference<Throwable> failure)
            throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (rounds.get() == before && failure.get() == null && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
    }
}
