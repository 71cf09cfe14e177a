package dev.lowmem.benchmarks;

import dev.lowmem.virtio.queue.DescriptorChain;
import dev.lowmem.virtio.queue.DeviceQueue;
import dev.lowmem.virtio.queue.DriverChain;
import dev.lowmem.virtio.queue.DriverQueue;
import dev.lowmem.virtio.queue.QueueLayout;
import dev.lowmem.virtio.queue.VirtqueueRig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

import static dev.lowmem.virtio.queue.VirtqueueRig.DATA_BASE;

/**
 * The virtqueue datapath alone: the driver posts chains and publishes, the device pops each and
 * pushes it used, publishes and decides on an interrupt, the driver takes them back. Both sides
 * run on one thread over the rings of real memfd-backed guest memory, so this is the rings'
 * instruction cost without cross-core cache traffic. Each chain is what a guest transmits, a
 * virtio-net header and a 1500-byte frame, both device-readable; nothing reads the frame bytes.
 * The score is ns per chain.
 */
@State(Scope.Thread)
public class VirtqueueBenchmark extends NanosPerOperation {
    private static final int QUEUE_SIZE = 256;
    /**
     * Chains moved per invocation, in rounds of {@code burst}: {@link OperationsPerInvocation}
     * needs a constant, and this one leaves room for any power-of-two burst that fits the queue
     * with two descriptors a chain.
     */
    private static final int CHAINS = 128;
    /** struct virtio_net_hdr with VIRTIO_F_VERSION_1 (virtio 1.2, 5.1.6). */
    private static final int NET_HDR_SIZE = 12;
    private static final int FRAME_SIZE = 1500;

    @Param({"SPLIT", "PACKED"})
    QueueLayout layout;

    /** Chains per publish: per kick decision, used-ring publish and interrupt decision. */
    @Param({"1", "32"})
    int burst;

    /** Whether a chain's two buffers go in an indirect table (one ring descriptor) or in the ring (two). */
    @Param({"false", "true"})
    boolean indirect;

    private final DriverChain posted = new DriverChain(2);
    private VirtqueueRig rig;
    private DriverQueue driver;
    private DeviceQueue device;
    private DescriptorChain popped;

    @Setup(Level.Trial)
    public void open() throws Exception {
        if (burst < 1 || CHAINS % burst != 0) {
            throw new IllegalArgumentException("burst " + burst + " does not divide the " + CHAINS
                    + " chains of an invocation");
        }
        rig = VirtqueueRig.open(layout, QUEUE_SIZE, true);
        driver = rig.driver();
        device = rig.device();
        popped = device.newChain();
        posted.readable(DATA_BASE, NET_HDR_SIZE).readable(DATA_BASE + NET_HDR_SIZE, FRAME_SIZE);
    }

    @Benchmark
    @OperationsPerInvocation(CHAINS)
    public void popAndPushEachChain(Blackhole blackhole) {
        for (int round = CHAINS / burst; round > 0; round--) {
            for (int i = 0; i < burst; i++) {
                blackhole.consume(driver.add(posted, indirect));
            }
            blackhole.consume(driver.publish());
            // The device's burst loop, as DeviceQueue documents it.
            for (int n = 0; n < burst && device.pop(popped); n++) {
                blackhole.consume(popped.readableLength());
                device.pushUsed(popped, 0);
            }
            device.publishUsed();
            blackhole.consume(device.needsInterrupt());
            for (int id; (id = driver.takeUsed()) >= 0; ) {
                blackhole.consume(id);
            }
        }
    }

    /** A chain refused or left in flight would make the rest of the run measure an idle queue. */
    @TearDown(Level.Iteration)
    public void checkEveryChainCameBack() {
        if (device.fault() != null) {
            throw new IllegalStateException(device.describeFault());
        }
        if (popped.error() != null) {
            throw new IllegalStateException(popped.describeError());
        }
        if (driver.freeDescriptors() != QUEUE_SIZE) {
            throw new IllegalStateException((QUEUE_SIZE - driver.freeDescriptors())
                    + " descriptors are still in flight after an iteration");
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        rig.close();
    }
}
