package dev.lowmem.virtio.vhostuser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.device.ActiveQueue;
import dev.lowmem.virtio.device.VirtioDevice;
import dev.lowmem.virtio.queue.DescriptorChain;
import dev.lowmem.virtio.queue.DeviceQueue;
import dev.lowmem.virtio.queue.DriverChain;
import dev.lowmem.virtio.queue.PackedDeviceQueue;
import dev.lowmem.virtio.queue.QueueLayout;
import dev.lowmem.vmm.core.event.EventLoop;
import dev.lowmem.vmm.core.memory.Memfd;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * INFLIGHT_SHMFD over real UNIX sockets with memfd guest memory and our own front-end: a
 * back-end that pops chains and dies before returning them, and a second back-end handed the
 * same inflight fd, which must complete every chain exactly once, as the used ring shows.
 */
class InflightSessionTest {
    private static final int QUEUE_SIZE = 16;
    private static final long RINGS = 0x1000;
    private static final long BUFFERS = 1 << 20;
    private static final long PROTOCOL = ProtocolFeature.of(ProtocolFeature.REPLY_ACK, ProtocolFeature.INFLIGHT_SHMFD);

    @TempDir
    Path directory;

    /** One queue the test thread serves itself, holding what it popped until told to return it. */
    static final class HoldingDevice implements VirtioDevice {
        final AtomicReference<ActiveQueue> queue = new AtomicReference<>();

        @Override
        public long deviceFeatures() {
            return Feature.VERSION_1.mask() | Feature.RING_PACKED.mask();
        }

        @Override
        public int maxQueues() {
            return 1;
        }

        @Override
        public void acknowledgeFeatures(long features) {
        }

        @Override
        public byte[] readConfig(int offset, int length) {
            return new byte[length];
        }

        @Override
        public void writeConfig(int offset, byte[] data) {
        }

        @Override
        public void startQueue(ActiveQueue started) {
            queue.set(started);
        }

        @Override
        public void stopQueue(int index) {
            queue.set(null);
        }

        @Override
        public void reset() {
        }

        ActiveQueue awaitQueue() throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (queue.get() == null && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(queue.get() != null, "the ring started");
            return queue.get();
        }

        /** Pops every available chain, returns the first {@code complete} of them used and holds the rest. */
        List<Integer> serve(int complete) throws Exception {
            ActiveQueue active = awaitQueue();
            assertTrue(active.tryEnter());
            try {
                DeviceQueue rings = active.rings();
                List<Integer> popped = new ArrayList<>();
                for (DescriptorChain chain = rings.newChain(); rings.pop(chain); chain = rings.newChain()) {
                    popped.add(chain.head());
                    if (popped.size() <= complete) {
                        rings.pushUsed(chain, 0);
                    }
                }
                rings.publishUsed();
                return popped;
            } finally {
                active.exit();
            }
        }
    }

    /** A back-end on its own socket and loop, and a front-end set up on it the way QEMU's vhost-user-blk does. */
    private record Session(EventLoop loop, VhostUserBackend backend, HoldingDevice device, VhostUserFrontend frontend)
            implements AutoCloseable {
        /** The back-end goes at once, rings running and chains in its hands: a crash, as far as the rings can tell. */
        @Override
        public void close() throws Exception {
            frontend.close();
            backend.close();
            loop.close();
        }
    }

    private Session connect(String name, FrontendMemory memory, long features) throws Exception {
        EventLoop loop = EventLoop.start("inflight-" + name);
        HoldingDevice device = new HoldingDevice();
        Path socket = directory.resolve(name + ".sock");
        VhostUserBackend backend = VhostUserBackend.listen(socket, device, loop);
        VhostUserFrontend frontend = VhostUserFrontend.connect(socket, Duration.ofSeconds(5));
        frontend.setOwner();
        frontend.setProtocolFeatures(frontend.getProtocolFeatures() & PROTOCOL);
        frontend.setFeatures(features);
        frontend.setMemTable(memory.regions(1));
        return new Session(loop, backend, device, frontend);
    }

    private static List<Integer> post(FrontendQueue queue, int count, int first) throws Exception {
        DriverChain chain = new DriverChain(1);
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(queue.driver().add(chain.clear().writable(BUFFERS + 4096L * (first + i), 512), false));
        }
        queue.publish();
        return ids;
    }

    private static List<Integer> used(FrontendQueue queue) {
        List<Integer> ids = new ArrayList<>();
        for (int id; (id = queue.driver().takeUsed()) >= 0; ) {
            ids.add(id);
        }
        return ids;
    }

    @ParameterizedTest
    @EnumSource(QueueLayout.class)
    void aBackEndKilledWithChainsInHandLeavesThemToTheNextOneOnce(QueueLayout layout) throws Exception {
        long features = Feature.VERSION_1.mask() | Feature.VHOST_USER_PROTOCOL_FEATURES.mask()
                | (layout == QueueLayout.PACKED ? Feature.RING_PACKED.mask() : 0);
        int fresh = layout == QueueLayout.PACKED ? PackedDeviceQueue.INITIAL_RING_BASE : 0;
        try (FrontendMemory memory = FrontendMemory.create("inflight-session", 4 << 20);
                FrontendQueue queue = FrontendQueue.create(memory, RINGS, features, QUEUE_SIZE)) {
            VhostUserFrontend.Inflight inflight;
            List<Integer> ids;
            try (Session first = connect("first", memory, features)) {
                inflight = first.frontend().getInflightFd(1, QUEUE_SIZE);
                assertEquals(layout.inflightRegionSize(QUEUE_SIZE), inflight.description().mmapSize());
                first.frontend().setInflightFd(inflight.description(), inflight.fd());
                queue.setUp(first.frontend(), 0, fresh);
                first.frontend().setVringEnable(0, true);
                ids = post(queue, 8, 0);
                assertEquals(ids, first.device().serve(3), "the first back-end pops all eight");
            }
            assertEquals(ids.subList(0, 3), used(queue), "three came back before it died");

            // As QEMU after a crash: last_avail_idx set back to the used index (3 one-slot chains).
            int restored = layout == QueueLayout.PACKED ? 0x8003_8003 : 3;
            List<Integer> later;
            try (FileDescriptor kept = inflight.fd(); Session second = connect("second", memory, features)) {
                second.frontend().setInflightFd(inflight.description(), kept);
                queue.setUp(second.frontend(), 0, restored);
                second.frontend().setVringEnable(0, true);
                later = post(queue, 2, 8);
                List<Integer> expected = new ArrayList<>(ids.subList(3, 8));
                expected.addAll(later);
                assertEquals(expected, second.device().serve(Integer.MAX_VALUE),
                        "the five in flight first, oldest first, then the new ones");
            }
            List<Integer> all = new ArrayList<>(ids.subList(3, 8));
            all.addAll(later);
            assertEquals(all, used(queue), "every chain completed exactly once");
        }
    }

    @Test
    void inflightRequestsThatDoNotFitAreRefusedAndTheSessionGoesOn() throws Exception {
        long features = Feature.VERSION_1.mask() | Feature.VHOST_USER_PROTOCOL_FEATURES.mask();
        try (FrontendMemory memory = FrontendMemory.create("inflight-refusals", 4 << 20);
                FrontendQueue queue = FrontendQueue.create(memory, RINGS, features, QUEUE_SIZE);
                Session session = connect("refusals", memory, features)) {
            VhostUserFrontend frontend = session.frontend();
            assertThrows(VhostUserException.class, () -> frontend.getInflightFd(2, QUEUE_SIZE), "more queues than the device");
            assertThrows(VhostUserException.class, () -> frontend.getInflightFd(1, 24), "a queue size not a power of two");
            VhostUserFrontend.Inflight inflight = frontend.getInflightFd(1, QUEUE_SIZE);
            try (FileDescriptor fd = inflight.fd(); FileDescriptor small = Memfd.create("small", 64)) {
                InflightMessage made = inflight.description();
                assertThrows(VhostUserException.class, () -> frontend.setInflightFd(
                        new InflightMessage(64, 0, 1, QUEUE_SIZE), fd), "mmap_size too small for the queue");
                assertThrows(VhostUserException.class, () -> frontend.setInflightFd(made, small), "a file too small");
                assertThrows(VhostUserException.class, () -> frontend.setInflightFd(
                        new InflightMessage(made.mmapSize(), 0, 3, QUEUE_SIZE), fd), "num_queues beyond the device's");
                // A buffer for queues of 32, and a ring of 16: the ring refuses to start.
                InflightMessage other = new InflightMessage(QueueLayout.SPLIT.inflightRegionSize(32), 0, 1, 32);
                try (FileDescriptor bigger = Memfd.create("bigger", other.mmapSize())) {
                    frontend.setInflightFd(other, bigger);
                }
                queue.setUp(frontend, 0, 0);
                VhostUserException refused = assertThrows(VhostUserException.class, () -> frontend.setVringEnable(0, true));
                assertTrue(refused.getMessage().contains("refused SET_VRING_ENABLE"), refused.getMessage());
                // Garbage where the region's version goes: the ring refuses to start.
                try (FileDescriptor garbage = Memfd.create("garbage", made.mmapSize())) {
                    dev.lowmem.vmm.core.memory.SharedMapping mapped = dev.lowmem.vmm.core.memory.SharedMapping.map(
                            garbage, made.mmapSize(), 0, "test");
                    mapped.contents().set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 8, (short) 0x7777);
                    mapped.close();
                    frontend.setVringEnable(0, false);
                    frontend.setInflightFd(made, garbage);
                }
                assertThrows(VhostUserException.class, () -> frontend.setVringEnable(0, true));
                frontend.setVringEnable(0, false);
                frontend.setInflightFd(made, fd);
                frontend.setVringEnable(0, true);
                session.device().awaitQueue();
                VhostUserException running = assertThrows(VhostUserException.class, () -> frontend.setInflightFd(made, fd));
                assertTrue(running.getMessage().contains("SET_INFLIGHT_FD"), running.getMessage());
                assertEquals(1, frontend.getQueueNum(), "the session goes on");
            }
        }
    }
}
