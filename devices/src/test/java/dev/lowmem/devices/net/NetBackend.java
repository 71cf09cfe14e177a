package dev.lowmem.devices.net;

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
        socket = dir.resolve("vnet.sock");
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

    @Override
    public void close() throws Exception {
        backend.close();
        loop.close();
        device.close();
    }
}
