package dev.lowmem.virtio.queue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.management.ManagementFactory;

import static dev.lowmem.virtio.queue.VirtqueueRig.DATA_BASE;
import static dev.lowmem.virtio.queue.VirtqueueRig.REGION_BOUNDARY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * In steady state neither side of a queue allocates per chain: direct and indirect chains,
 * buffers split across regions, suppression decisions, measured by the JVM's own per-thread
 * allocation counter.
 */
class QueueAllocationTest {
    private static final int BURST = 32;
    private static final int WARM_UP_ROUNDS = 5_000;
    private static final int MEASURED_ROUNDS = 10_000;

    @ParameterizedTest
    @EnumSource(QueueLayout.class)
    void aBurstAllocatesNothing(QueueLayout layout) throws Exception {
        try (VirtqueueRig rig = VirtqueueRig.open(layout, 256, true)) {
            DriverQueue driver = rig.driver();
            DeviceQueue device = rig.device();
            DriverChain frame = new DriverChain(4);
            DescriptorChain chain = device.newChain();
            Round round = () -> {
                for (int i = 0; i < BURST; i++) {
                    frame.clear().readable(DATA_BASE, 12).readable(REGION_BOUNDARY - 100, 1400);
                    driver.add(frame, i % 2 == 0);
                }
                driver.publish();
                long moved = 0;
                while (device.pop(chain)) {
                    moved += chain.readableLength();
                    device.pushUsed(chain, 0);
                }
                device.publishUsed();
                device.needsInterrupt();
                device.enableNotifications();
                while (driver.takeUsed() >= 0) {
                    driver.enableInterrupts();
                }
                return moved;
            };
            for (int i = 0; i < WARM_UP_ROUNDS; i++) {
                assertEquals(BURST * 1412L, round.run());
            }
            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < MEASURED_ROUNDS; i++) {
                round.run();
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            long chains = (long) BURST * MEASURED_ROUNDS;
            // One object per chain would be 16 bytes x chains at least; what may remain is a
            // one-off of the JIT's (a deoptimization materializing an object).
            assertTrue(allocated < chains / 10, allocated + " bytes allocated over " + chains + " chains");
        }
    }

    @FunctionalInterface
    private interface Round {
        long run();
    }
}
