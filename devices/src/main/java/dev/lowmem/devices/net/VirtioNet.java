package dev.lowmem.devices.net;

import dev.lowmem.devices.port.Port;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.FeatureNegotiationException;
import dev.lowmem.virtio.Features;
import dev.lowmem.virtio.device.ActiveQueue;
import dev.lowmem.virtio.device.VirtioDevice;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.pool.PacketPool;
import dev.lowmem.vmm.core.pool.PoolConfig;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.util.function.LongConsumer;

/**
 * A virtio-net device (virtio 1.2, 5.1) in front of a host-side {@link Port}: queue pair {@code p}
 * is RX queue {@code 2p} and TX queue {@code 2p+1}, each pair run by a worker thread of its own or,
 * for a VMM that embeds the device and runs its datapath itself ({@link Datapath#CALLER}), by
 * whichever thread calls {@link #doWork(int)} (docs/EMBEDDING.md).
 *
 * <p>It offers what its datapath does itself (both ring layouts, EVENT_IDX, indirect descriptors,
 * mergeable RX buffers, MAC, MTU, link status) plus the offloads the port can honour, and
 * multiqueue when it has more than one pair. Under vhost-user the control queue is the
 * front-end's: QEMU keeps it and tells the back-end which pairs run by enabling their rings. A
 * device for a VMM's own transport runs it itself ({@link #withControlQueue}): the receive filter
 * and the number of receiving pairs it sets apply to every pair's RX path.
 *
 * <p>Each pair's RX backlog draws on a {@link PacketPool}: one shared with other devices, or the
 * device's own.
 *
 * <p>Owns the port: {@link #close()} closes it.
 */
public final class VirtioNet implements VirtioDevice, AutoCloseable {
    /** The device ID a transport reports for a network device (virtio 1.2, 5). */
    public static final int DEVICE_ID = 1;

    /** Who runs the queue pairs. */
    public enum Datapath {
        /** A worker thread per pair, sleeping in epoll on the pair's kicks and port. */
        WORKERS,
        /**
         * The embedding VMM's own threads, each calling {@link #doWork(int)} for the pairs it
         * runs; the device starts no thread for them.
         */
        CALLER
    }

    private final NetDeviceOptions options;
    private final Port port;
    private final PacketPool pool;
    private final boolean ownsPool;
    private final NetConfigSpace config;
    private final NetControl control;
    /** The device runs the control queue itself: no vhost-user front-end keeps it (docs/EMBEDDING.md). */
    private final boolean hasControlQueue;
    private final long offered;
    private final Arena arena = Arena.ofShared();
    private final PacketCapture capture = new PacketCapture();
    private final PortSteering steering;
    private final QueuePair[] pairs;
    /** Null entries with {@link Datapath#CALLER}. */
    private final QueuePairWorker[] workers;
    private final Datapath datapath;
    private volatile long negotiated;
    private volatile LongConsumer negotiationListener = features -> { };

    /** A device with a packet pool of its own, of {@link PoolConfig#defaults()}. */
    public VirtioNet(NetDeviceOptions options, Port port) throws NativeIoException {
        this(options, port, new PacketPool(PoolConfig.defaults()), true, Datapath.WORKERS, false);
    }

    /**
     * A device for a VMM's own transport (virtio-mmio, say), with a packet pool of its own, its
     * pairs run as {@code datapath} says, and with the control virtqueue, which vhost-user leaves
     * to its front-end. It offers CTRL_VQ with RX mode (CTRL_RX, CTRL_RX_EXTRA), the MAC table and address
     * (CTRL_MAC_ADDR), the VLAN filter (CTRL_VLAN) and, with more than one pair, MQ; the control
     * queue is the last (virtio 1.2, 5.1.2), served by pair 0's datapath.
     */
    public static VirtioNet withControlQueue(NetDeviceOptions options, Port port, Datapath datapath)
            throws NativeIoException {
        return new VirtioNet(options, port, new PacketPool(PoolConfig.defaults()), true, datapath, true);
    }

    /**
     * A device drawing on {@code pool}, which the caller runs ({@link PacketPool#startRefiller()})
     * and closes after the device.
     */
    public VirtioNet(NetDeviceOptions options, Port port, PacketPool pool) throws NativeIoException {
        this(options, port, pool, false, Datapath.WORKERS, false);
    }

    private VirtioNet(NetDeviceOptions options, Port port, PacketPool pool, boolean ownsPool, Datapath datapath,
            boolean hasControlQueue) throws NativeIoException {
        this.pool = pool;
        this.datapath = datapath;
        this.ownsPool = ownsPool;
        if (options.queuePairs() > port.maxQueuePairs()) {
            throw new IllegalArgumentException(options.queuePairs() + " queue pairs asked of " + port.describe()
                    + ", which serves at most " + port.maxQueuePairs());
        }
        this.options = options;
        this.port = port;
        this.config = new NetConfigSpace(options.mac(), options.queuePairs(), options.mtu());
        this.steering = new PortSteering(port, options.queuePairs());
        this.control = new NetControl(config, options.queuePairs(), steering::controlPairs);
        this.hasControlQueue = hasControlQueue;
        this.offered = NetFeatures.DEVICE_OWN | NetFeatures.consistentOffloads(port.offloadFeatures())
                | (options.queuePairs() > 1 ? Feature.NET_MQ.mask() : 0)
                | (hasControlQueue ? NetFeatures.CONTROL_QUEUE : 0);
        pairs = new QueuePair[options.queuePairs()];
        workers = new QueuePairWorker[pairs.length];
        try {
            for (int i = 0; i < pairs.length; i++) {
                pairs[i] = new QueuePair(i, port.queue(i), options.mtu(), pool, control, hasControlQueue && i == 0,
                        capture, arena);
                if (datapath == Datapath.WORKERS) {
                    workers[i] = new QueuePairWorker(pairs[i], options.newPollWindow(), arena);
                }
            }
        } catch (NativeIoException | RuntimeException e) {
            closeWorkers();
            arena.close();
            closeOwnPool();
            throw e;
        }
        if (ownsPool) {
            pool.startRefiller();
        }
        for (QueuePairWorker worker : workers) {
            if (worker != null) {
                worker.start();
            }
        }
    }

    /**
     * One duty cycle of pair {@code index} on the caller's thread ({@link Datapath#CALLER}): the
     * pair's kicks are consumed and counted, then what there is to move moves, whether or not a
     * kick came (the caller decides when to look). One thread at a time per pair. Before that
     * thread sleeps it calls the pair's {@link QueuePair#prepareToSleep()}, and runs again
     * instead when it says there is work; asleep, it waits for a queue notification of the pair
     * and for {@link QueuePair#portInterest()} on the port's fd.
     *
     * @return the frames moved
     * @throws IllegalStateException when the device's own workers run its pairs
     */
    public int doWork(int index) {
        if (datapath != Datapath.CALLER) {
            throw new IllegalStateException("the device's workers run its queue pairs");
        }
        QueuePair pair = pairs[index];
        pair.kicked(QueuePair.rxQueue(index));
        pair.kicked(QueuePair.txQueue(index));
        if (hasControlQueue && index == 0) {
            pair.kicked(controlQueueIndex());
        }
        return pair.doWork();
    }

    public NetDeviceOptions options() {
        return options;
    }

    public Port port() {
        return port;
    }

    /** The pool the RX backlogs draw on: its budget can change while the device runs. */
    public PacketPool pool() {
        return pool;
    }

    public int queuePairs() {
        return pairs.length;
    }

    /** The pair's datapath, for its counters and its port queue. */
    /** Where this device's frames are captured, both ways: nowhere until given a {@link PcapWriter}. */
    public PacketCapture capture() {
        return capture;
    }

    public QueuePair pair(int index) {
        return pairs[index];
    }

    /**
     * Heap bytes the worker thread of pair {@code index} has allocated since it started (-1 where the
     * JVM does not count): the datapath allocates nothing in steady state, and this shows it.
     */
    public long workerAllocatedBytes(int index) {
        return workers[index] == null ? -1 : workers[index].allocatedBytes();
    }

    /**
     * Calls {@code listener} with the driver's features each time it settles them, on the
     * control-plane thread, after the datapath has taken them: the command prints them, a VMM may
     * log them. Keep it short; the front-end waits for the reply meanwhile.
     */
    public void onNegotiated(LongConsumer listener) {
        negotiationListener = listener;
    }

    /** What the driver took, 0 before negotiation and after a reset. */
    public long negotiatedFeatures() {
        return negotiated;
    }

    @Override
    public long deviceFeatures() {
        return offered;
    }

    @Override
    public int maxQueues() {
        return 2 * pairs.length + (hasControlQueue ? 1 : 0);
    }

    /** The control queue's index: after every pair's with MQ, else after the first pair's (virtio 1.2, 5.1.2). */
    private int controlQueueIndex() {
        return Feature.NET_MQ.in(negotiated) ? 2 * pairs.length : 2;
    }

    /** The pair that runs queue {@code index}: pair 0 for the control queue. */
    private int pairOf(int index) {
        return hasControlQueue && index == controlQueueIndex() ? 0 : index / 2;
    }

    /** Queue pairs, as QEMU's vhost-user-net reads GET_QUEUE_NUM (net/vhost-user.c, vhost_user_start). */
    @Override
    public int queueNumForFrontend() {
        return pairs.length;
    }

    @Override
    public void acknowledgeFeatures(long features) throws FeatureNegotiationException {
        Features.accept(offered, features);
        try {
            port.negotiated(features, NetFeatures.headerSize(features));
        } catch (IOException e) {
            throw new FeatureNegotiationException(port.describe() + " cannot take the features "
                    + Features.describe(features) + ": " + e.getMessage());
        }
        for (QueuePair pair : pairs) {
            pair.configure(features);
        }
        control.configure(features);
        negotiated = features;
        negotiationListener.accept(features);
    }

    @Override
    public byte[] readConfig(int offset, int length) {
        return config.read(offset, length);
    }

    @Override
    public void writeConfig(int offset, byte[] data) {
        config.write(offset, data);
    }

    @Override
    public void startQueue(ActiveQueue queue) {
        int pair = pairOf(queue.index());
        if (datapath == Datapath.CALLER) {
            pairs[pair].attach(queue);
        } else {
            try {
                workers[pair].attach(queue);
            } catch (NativeIoException e) {
                throw new IllegalStateException("cannot watch the kick of queue " + queue.index(), e);
            }
        }
        if (queue.index() == QueuePair.rxQueue(pair)) {
            steering.rxRunning(pair, true);
        }
    }

    @Override
    public void stopQueue(int index) {
        int pair = pairOf(index);
        if (index == QueuePair.rxQueue(pair)) {
            steering.rxRunning(pair, false);
        }
        if (datapath == Datapath.CALLER) {
            pairs[pair].detach(index);
            return;
        }
        try {
            workers[pair].detach(index);
        } catch (NativeIoException e) {
            throw new IllegalStateException("cannot stop watching the kick of queue " + index, e);
        }
    }

    /** What the device held for the driver that went is dropped and counted, pair by pair, by each worker. */
    @Override
    public void reset() {
        control.reset();
        negotiated = 0;
        for (int i = 0; i < workers.length; i++) {
            if (workers[i] == null) {
                pairs[i].reset();
                continue;
            }
            try {
                workers[i].reset();
            } catch (NativeIoException e) {
                throw new IllegalStateException("cannot wake queue pair " + i + " to reset it", e);
            }
        }
    }

    /** A virtio-net device announces its guest after a migration (vhost-user's RARP). */
    @Override
    public boolean canAnnounce() {
        return true;
    }

    /**
     * Sends a RARP announcement of {@code mac} out of the port on pair 0's next cycle: a TAP writes
     * it to the host, a switch floods it from this guest's port (and learns the guest's MAC there);
     * a loopback, sink or source ignores it ({@code rarp_ignored}). Our worker is woken for it; a
     * VMM that runs the datapath sends it at its next {@link #doWork(int)}.
     */
    @Override
    public void announce(byte[] mac) {
        byte[] frame = Announcement.rarpFrame(mac);
        if (workers[0] == null) {
            pairs[0].announce(frame);
            return;
        }
        try {
            workers[0].announce(frame);
        } catch (NativeIoException e) {
            throw new IllegalStateException("cannot wake queue pair 0 to announce the guest", e);
        }
    }

    /**
     * Stops the workers and closes the port, and the pool if it is the device's own. With
     * {@link Datapath#CALLER}, no thread may be in {@link #doWork(int)} any more: what the pairs
     * hold of the pool goes back on this thread.
     */
    @Override
    public void close() {
        closeWorkers();
        if (datapath == Datapath.CALLER) {
            for (QueuePair pair : pairs) {
                pair.release();
            }
        }
        arena.close();
        port.close();
        closeOwnPool();
    }

    private void closeOwnPool() {
        if (ownsPool) {
            pool.close();
        }
    }

    private void closeWorkers() {
        for (QueuePairWorker worker : workers) {
            if (worker != null) {
                worker.close();
            }
        }
    }
}
