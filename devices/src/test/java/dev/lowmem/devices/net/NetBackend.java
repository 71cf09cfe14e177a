package dev.lowmem.devices.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowmem.devices.port.Port;
import dev.lowmem.virtio.vhostuser.VhostUserBackend;
import dev.lowmem.vmm.core.event.EventLoop;
import dev.lowmem.vmm.core.pool.PacketPool;
import java.nio.file.Path;

/** A {@link VirtioNet} on a port, served on a vhost-user socket in {@code dir}: the device under test. */
final class NetBackend implements AutoCloseable {
    final Path socket;
    final VirtioNet device;
    private final EventLoop loop;
    private final VhostUserBackend backend;

    NetBackend(Path dir, Port port, NetDeviceOptions options) throws Exception {
        this(dir, new VirtioNet(options, port));
    }

    /** The device draws on {@code pool}, which the test closes after this. */
    NetBackend(Path dir, Port port, PacketPool pool) throws Exception {
        this(dir, new VirtioNet(NetDeviceOptions.defaults(), port, pool));
    }

    private NetBackend(Path dir, VirtioNet device) throws Exception {
        this(device, dir.resolve("vnet.sock"));
    }

    /** {@code device} served on {@code socket}: one of several devices in a directory. */
    NetBackend(VirtioNet device, Path socket) throws Exception {
        this.socket = socket;
        loop = EventLoop.start("vhost-user test");
        this.device = device;
        backend = VhostUserBackend.listen(socket, device, loop);
    }

    NetBackend(Path dir, Port port) throws Exception {
        this(dir, port, NetDeviceOptions.defaults());
    }

    QueuePairCounters counters() {
        return device.pair(0).counters();
    }

    /** Fails the test whose device's workers met an error outside their queues: no test may rely on one. */
    @Override
    public void close() throws Exception {
        backend.close();
        loop.close();
        long workerErrors = 0;
        for (int pair = 0; pair < device.queuePairs(); pair++) {
            workerErrors += device.pair(pair).counters().get(NetCounter.WORKER_ERRORS);
        }
        device.close();
        assertEquals(0, workerErrors, "errors the device's workers survived outside their queues (see the log)");
    }
}
