package dev.lowmem.devices.net;

import dev.lowmem.devices.port.TapPort;
import dev.lowmem.devices.port.sw.L2Switch;
import dev.lowmem.devices.port.sw.MacTable;
import dev.lowmem.devices.port.sw.SwitchMember;
import dev.lowmem.devices.port.sw.SwitchPortCounters;
import dev.lowmem.devices.port.sw.Uplink;
import dev.lowmem.vmm.core.pool.PacketPool;
import dev.lowmem.vmm.core.pool.PoolConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A switch with {@code n} virtio-net devices on it, each served on a socket of its own in a
 * directory ({@code port-0.sock}, ...), all drawing on one packet pool: what the command runs
 * with --switch, for {@link NetDriver}s to play the guests.
 */
final class SwitchRig implements AutoCloseable {
    /** Device i's MAC: 52:54:00:12:34:(0x56 + i). */
    static final long FIRST_MAC = NetDeviceOptions.DEFAULT_MAC.value();

    final PacketPool pool;
    final L2Switch fabric;
    private final List<NetBackend> backends = new ArrayList<>();
    private Uplink uplink;

    SwitchRig(Path dir, int n) throws Exception {
        this(dir, n, PoolConfig.defaults());
    }

    /** As {@link #SwitchRig(Path, int)}, the devices and the switch drawing on a pool of {@code poolConfig}. */
    SwitchRig(Path dir, int n, PoolConfig poolConfig) throws Exception {
        pool = new PacketPool(poolConfig);
        fabric = new L2Switch(new MacTable(), pool);
        pool.startRefiller();
        try {
            for (int i = 0; i < n; i++) {
                NetDeviceOptions options = new NetDeviceOptions(new MacAddress(FIRST_MAC + i),
                        NetDeviceOptions.DEFAULT_MTU, 1, NetDeviceOptions.DEFAULT_POLL_WINDOW);
                Path socket = dir.resolve("port-" + i + ".sock");
                backends.add(new NetBackend(new VirtioNet(options, fabric.addPort(socket.getFileName().toString(), options.queuePairs()), pool),
                        socket));
            }
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    /**
     * Waits until the pool's refiller has filled the reserve of every switch port: a test that
     * sends a burst at once would otherwise race the refiller, and its frames could be dropped
     * for want of a buffer, as they may be in a back-end that has just started.
     */
    void awaitPoolReserve() throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (pool.stats().freeBuffers() < pool.stats().reserveTarget()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the pool's reserve was not filled within 5 s: " + pool.stats());
            }
            Thread.sleep(1);
        }
    }

    /** The host's port on {@code tap}: switch port {@code n}, after the devices'. */
    Uplink addUplink(TapPort tap) throws Exception {
        uplink = fabric.addUplink(tap);
        return uplink;
    }

    Path socket(int port) {
        return backends.get(port).socket;
    }

    QueuePairCounters pairCounters(int port) {
        return backends.get(port).counters();
    }

    /** What device {@code port}'s worker has allocated since it started. */
    long workerAllocatedBytes(int port) {
        return backends.get(port).device.workerAllocatedBytes(0);
    }

    SwitchMember member(int port) {
        return fabric.members().get(port);
    }

    SwitchPortCounters counters(int port) {
        return member(port).counters();
    }

    @Override
    public void close() throws Exception {
        Exception failure = null;
        if (uplink != null) {
            uplink.close();
        }
        for (NetBackend backend : backends) {
            try {
                backend.close();
            } catch (Exception e) {
                failure = failure == null ? e : failure;
            }
        }
        fabric.close();
        pool.close();
        if (failure != null) {
            throw failure;
        }
    }
}
