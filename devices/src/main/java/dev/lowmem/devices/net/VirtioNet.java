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
 * is RX queue {@code 2p} and TX queue {@code 2p+1}, each pair run by its own worker thread.
 *
 * <p>It offers what its datapath does itself (both ring layouts, EVENT_IDX, indirect descriptors,
 * mergeable RX buffers, MAC, MTU, link status) plus the offloads the port can honour, and
 * multiqueue when it has more than one pair. The control queue is the transport's: QEMU keeps
 * it for vhost-user devices and tells the back-end which pairs run by enabling their rings.
 *
 * <p>Each pair's RX backlog draws on a {@link PacketPool}: one shared with other devices, or the
 * device's own.
 *
 * <p>Owns the port: {@link #close()} closes it.
 */
public final class VirtioNet implements VirtioDevice, AutoCloseable {
    private final NetDeviceOptions options;
    private final Port port;
    private final PacketPool pool;
    private final boolean ownsPool;
    private final NetConfigSpace config;
    private final long offered;
    private final Arena arena = Arena.ofShared();
    private final PacketCapture capture = new PacketCapture();
    private final QueuePair[] pairs;
    private final QueuePairWorker[] workers;
    private volatile long negotiated;
    private volatile LongConsumer negotiationListener = features -> { };

    /** A device with a packet pool of its own, of {@link PoolConfig#defaults()}. */
    public VirtioNet(NetDeviceOptions options, Port port) throws NativeIoException {
        this(options, port, new PacketPool(PoolConfig.defaults()), true);
    }

    /**
     * A device drawing on {@code pool}, which the caller runs ({@link PacketPool#startRefiller()})
     * and closes after the device.
     */
    public VirtioNet(NetDeviceOptions options, Port port, PacketPool pool) throws NativeIoException {
        this(options, port, pool, false);
    }

    private VirtioNet(NetDeviceOptions options, Port port, PacketPool pool, boolean ownsPool)
            throws NativeIoException {
        this.pool = pool;
        this.ownsPool = ownsPool;
        if (options.queuePairs() > port.maxQueuePairs()) {
            throw new IllegalArgumentException(options.queuePairs() + " queue pairs asked of " + port.describe()
                    + ", which serves at most " + port.maxQueuePairs());
        }
        this.options = options;
        this.port = port;
        this.config = new NetConfigSpace(options.mac(), options.queuePairs(), options.mtu());
        this.offered = NetFeatures.DEVICE_OWN | NetFeatures.consistentOffloads(port.offloadFeatures())
                | (options.queuePairs() > 1 ? Feature.NET_MQ.mask() : 0);
        pairs = new QueuePair[options.queuePairs()];
        workers = new QueuePairWorker[pairs.length];
        try {
            for (int i = 0; i < pairs.length; i++) {
                pairs[i] = new QueuePair(i, port.queue(i), options.mtu(), pool, capture, arena);
                workers[i] = new QueuePairWorker(pairs[i], options.pollWindow(), arena);
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
            worker.start();
        }
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
        return workers[index].allocatedBytes();
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
        return 2 * pairs.length;
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
        try {
            workers[queue.index() / 2].attach(queue);
        } catch (NativeIoException e) {
            throw new IllegalStateException("cannot watch the kick of queue " + queue.index(), e);
        }
    }

    @Override
    public void stopQueue(int index) {
        try {
            workers[index / 2].detach(index);
        } catch (NativeIoException e) {
            throw new IllegalStateException("cannot stop watching the kick of queue " + index, e);
        }
    }

    /** What the device held for the driver that went is dropped and counted, pair by pair, by each worker. */
    @Override
    public void reset() {
        negotiated = 0;
        for (int i = 0; i < workers.length; i++) {
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
     * Sends a RARP announcement of {@code mac} out of the port, from pair 0's worker: a TAP writes
     * it to the host, a switch floods it from this guest's port (and learns the guest's MAC there);
     * a loopback, sink or source ignores it ({@code rarp_ignored}).
     */
    @Override
    public void announce(byte[] mac) {
        try {
            workers[0].announce(Announcement.rarpFrame(mac));
        } catch (NativeIoException e) {
            throw new IllegalStateException("cannot wake queue pair 0 to announce the guest", e);
        }
    }

    /** Stops the workers and closes the port, and the pool if it is the device's own. */
    @Override
    public void close() {
        closeWorkers();
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
