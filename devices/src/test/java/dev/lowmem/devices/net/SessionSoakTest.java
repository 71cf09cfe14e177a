package dev.lowmem.devices.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.port.LoopbackPort;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.vmm.core.testing.ProcSelf;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * One long-lived back-end serving the virtio-net device on a loopback, and a thousand front-end
 * sessions one after the other: connect, negotiate, frames both ways, disconnect (cleanly with
 * GET_VRING_BASE, in the middle of traffic, or without GET_VRING_BASE). What the process holds
 * afterwards must be what it held before: the same descriptors, mappings and threads, and the
 * heap within a small bound. "Before" is taken after a few warm-up sessions, which start what is
 * started once (the loop's timer thread, the workers' scratch, classes and JIT code).
 */
class SessionSoakTest {
    private static final int WARM_UP_CYCLES = 30;
    private static final int CYCLES = 1000;
    private static final int FRAMES = 16;
    private static final int RX_BUFFER_SIZE = 2048;
    /** Heap the sessions may leave behind, all of them together: a leak of 1 KiB a session passes it. */
    private static final long HEAP_BOUND_BYTES = 1L << 20;
    /**
     * How far the count of all the process's mappings may grow: the JVM's own (code cache, heap
     * regions) move by a few (7 more, 17 fewer seen) while nothing of ours changes. A session's
     * mappings are guest memory, memfd mappings, which must come back exactly.
     */
    private static final long JVM_MAPPINGS_SLACK = 16;
    /**
     * How many more descriptors the JVM may hold for its own ends (a jar it opened, seen 40 -> 39
     * the other way once): a session that leaked one would leave a thousand.
     */
    private static final long JVM_FDS_SLACK = 4;
    /**
     * The JDK's pools that end idle threads on their own clock (a minute for both): one that an
     * earlier test class in this JVM used may lose a thread in the middle of the run.
     */
    private static final List<String> SELF_SHRINKING_JDK_POOLS = List.of("process reaper", "ForkJoinPool");
    private static final Duration RELEASE_TIMEOUT = Duration.ofSeconds(5);
    /** The rings and header layouts the sessions take turns with. */
    private static final long[] FEATURE_SETS = {
        Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_EVENT_IDX),
        Features.of(Feature.VERSION_1, Feature.RING_PACKED, Feature.RING_INDIRECT_DESC),
        Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX, Feature.RING_INDIRECT_DESC),
    };
    /** The back-end's log, quieted to warnings for the run: a thousand sessions' INFO lines say nothing new. */
    private static final Logger BACKEND_LOG = Logger.getLogger("dev.lowmem");

    /** How a session ends. */
    private enum Ending {
        /** Both rings stopped with GET_VRING_BASE, then the connection closed. */
        CLEAN,
        /** Frames just published on TX with RX buffers posted, then the connection closed. */
        MID_TRAFFIC,
        /** The connection closed with the rings running, as a front-end that crashes. */
        WITHOUT_GET_VRING_BASE
    }

    /** What the process holds between sessions; {@code threads} by name, sorted. */
    private record Holdings(long fds, long memfdMappings, long mappings, List<String> threads, long heapUsed) {
        static Holdings now() throws InterruptedException {
            return new Holdings(ProcSelf.openFdCount(), ProcSelf.memfdMappingCount(), ProcSelf.mappingCount(),
                    liveThreads(), heapUsedAfterGc());
        }

        private static List<String> liveThreads() {
            return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                    .filter(name -> SELF_SHRINKING_JDK_POOLS.stream().noneMatch(name::startsWith))
                    .sorted().toList();
        }

        private static long heapUsedAfterGc() throws InterruptedException {
            // Two collections: the first may only queue what has cleaners or finalization to run.
            for (int i = 0; i < 2; i++) {
                System.gc();
                Thread.sleep(50);
            }
            return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        }

        String describe() {
            return "fds " + fds + ", memfd mappings " + memfdMappings + ", all mappings " + mappings + ", threads "
                    + threads.size() + ", heap used after GC " + heapUsed / 1024 + " KiB";
        }
    }

    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void aThousandSessionsLeaveNoDescriptorMappingThreadOrHeapBehind() throws Exception {
        Level level = BACKEND_LOG.getLevel();
        BACKEND_LOG.setLevel(Level.WARNING);
        try (NetBackend backend = new NetBackend(dir, new LoopbackPort(1))) {
            for (int cycle = 0; cycle < WARM_UP_CYCLES; cycle++) {
                runSession(backend.socket, cycle);
            }
            Holdings before = Holdings.now();
            long start = System.nanoTime();
            for (int cycle = WARM_UP_CYCLES; cycle < WARM_UP_CYCLES + CYCLES; cycle++) {
                runSession(backend.socket, cycle);
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            Holdings after = Holdings.now();
            QueuePairCounters counters = backend.counters();
            System.out.println("session soak: " + CYCLES + " sessions in " + took.toMillis() + " ms (after "
                    + WARM_UP_CYCLES + " warm-up sessions); frames a session's end dropped (rx_drop_backlog): "
                    + counters.get(NetCounter.RX_DROP_BACKLOG) + ", ring faults: "
                    + (counters.get(NetCounter.TX_FAULTS) + counters.get(NetCounter.RX_FAULTS)));
            System.out.println("session soak: before " + before.describe());
            System.out.println("session soak: after  " + after.describe());

            assertTrue(after.fds() <= before.fds() + JVM_FDS_SLACK, "open descriptors went from " + before.fds()
                    + " to " + after.fds());
            assertEquals(before.memfdMappings(), after.memfdMappings(), "memfd mappings");
            assertTrue(after.mappings() <= before.mappings() + JVM_MAPPINGS_SLACK, "all mappings went from "
                    + before.mappings() + " to " + after.mappings());
            assertEquals(before.threads(), after.threads(), "live threads, by name");
            assertTrue(after.heapUsed() - before.heapUsed() < HEAP_BOUND_BYTES, "heap used grew from "
                    + before.heapUsed() + " to " + after.heapUsed() + " bytes");
            assertEquals(0, counters.get(NetCounter.TX_FAULTS) + counters.get(NetCounter.RX_FAULTS), "ring faults");
        } finally {
            BACKEND_LOG.setLevel(level);
        }
    }

    /**
     * One session: {@link #FRAMES} frames out and back, checked byte for byte, then the ending
     * this cycle takes. What an earlier session left in the loopback as it went away was dropped
     * with it (docs/ARCHITECTURE.md, "A reset forgets"): the first frame back is this session's.
     */
    private void runSession(Path socket, int cycle) throws Exception {
        long features = FEATURE_SETS[cycle / Ending.values().length % FEATURE_SETS.length];
        Ending ending = Ending.values()[cycle % Ending.values().length];
        int first = cycle * 2 * FRAMES;
        try (NetDriver driver = NetDriver.connect(socket, features)) {
            driver.fillRx(RX_BUFFER_SIZE);
            sendFrames(driver, first);
            for (int sequence = first; sequence < first + FRAMES; sequence++) {
                assertArrayEquals(frame(sequence), driver.receive().packet(), "cycle " + cycle + ", frame " + sequence);
            }
            switch (ending) {
                case CLEAN -> driver.stopRings();
                case MID_TRAFFIC -> sendFrames(driver, first + FRAMES);
                case WITHOUT_GET_VRING_BASE -> {
                    // Closed below with the rings running.
                }
            }
        }
        awaitSessionReleased();
    }

    private static void sendFrames(NetDriver driver, int first) throws Exception {
        for (int sequence = first; sequence < first + FRAMES; sequence++) {
            driver.send(driver.plainHeader(), frame(sequence));
        }
    }

    private static byte[] frame(int sequence) {
        return LoopbackDeviceTest.packet(sequence, 60 + sequence * 97 % 1455);
    }

    /**
     * Waits until the back-end has unmapped the guest's memory: it ends a session on its own
     * thread, and the next front-end would be refused while the last one is still served.
     */
    private static void awaitSessionReleased() throws InterruptedException {
        long deadline = System.nanoTime() + RELEASE_TIMEOUT.toNanos();
        while (ProcSelf.mappingsOf(NetDriver.MEMFD_NAME) != 0) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("the back-end still maps guest memory " + RELEASE_TIMEOUT.toMillis()
                        + " ms after the front-end left");
            }
            Thread.sleep(1);
        }
    }
}
