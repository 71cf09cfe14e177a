package dev.lowmem.devices.net;

import dev.lowmem.benchmarks.NanosPerOperation;
import dev.lowmem.devices.port.SourcePort;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The device's RX path alone, as {@code vhost-user-net --source SIZE} runs it under a front-end
 * that only posts buffers (loadgen {@code --mode rx}, testpmd's net_virtio_user): the source port
 * writes each frame into the guest's mergeable buffers, the queue pair fills them and publishes.
 * Device and driver run in one thread on the embedded rig ({@link EmbeddedNetRig}), so this is the
 * instruction cost of a received frame, without the cross-core traffic and wake-ups of a real
 * front-end. The features are those a vhost-user front-end negotiates (no control queue: QEMU
 * keeps its own). The score is ns per frame, the driver's taking back and reposting included.
 */
@State(Scope.Thread)
public class ReceivePathBenchmark extends NanosPerOperation {
    /** Frames per invocation: half the ring, so the device never finds it empty and never starves. */
    private static final int FRAMES = 128;
    private static final int QUEUE_SIZE = 256;
    /** What Linux's virtio_net posts for mergeable buffers at a 1500-byte MTU. */
    private static final int BUFFER_SIZE = 1536;

    /** The Ethernet frame's length, without the virtio-net header. */
    @Param({"64", "1500"})
    int size;

    private EmbeddedNetRig rig;
    private int rxQueue;

    @Setup(Level.Trial)
    public void open() throws Exception {
        long features = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX, Feature.NET_MRG_RXBUF, Feature.NET_MTU);
        rig = new EmbeddedNetRig(new SourcePort(size, 1), features);
        rxQueue = QueuePair.rxQueue(0);
        rig.driver.postRx(QUEUE_SIZE, BUFFER_SIZE);
    }

    @Benchmark
    @OperationsPerInvocation(FRAMES)
    public int receive() {
        int frames = 0;
        while (frames < FRAMES) {
            frames += rig.device.doWork(0);
        }
        int taken = 0;
        while (rig.driver.takeUsed(rxQueue) >= 0) {
            taken++;
        }
        rig.driver.postRx(taken, BUFFER_SIZE);
        return frames;
    }

    /** A starved or faulted queue would make the rest of the run measure an idle device. */
    @TearDown(Level.Iteration)
    public void checkNothingWentWrong() {
        for (NetCounter counter : new NetCounter[] {NetCounter.RX_STARVED, NetCounter.RX_DROP_MALFORMED_CHAIN,
                NetCounter.RX_DROP_NO_ROOM, NetCounter.RX_FAULTS}) {
            if (rig.counters().get(counter) != 0) {
                throw new IllegalStateException(counter + " is " + rig.counters().get(counter));
            }
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        rig.close();
    }
}
