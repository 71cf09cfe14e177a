package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.net.VirtioNet;
import dev.lowmem.devices.port.Port;
import dev.lowmem.virtio.vhostuser.VhostUserBackend;
import dev.lowmem.vmm.core.event.EventLoop;
import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.pool.PacketPool;
import dev.lowmem.vmm.core.pool.PoolConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.LongConsumer;

/**
 * The running backend: the port, the packet pool, the virtio-net device in front of them, the
 * control-plane event loop and the vhost-user socket. Started in that order and stopped in the reverse one, so that
 * a failure half-way leaves nothing open.
 */
final class NetBackend implements AutoCloseable {
    /** How long {@code --client} waits before connecting again, as QEMU's own {@code reconnect=1}. */
    static final Duration RECONNECT_DELAY = Duration.ofSeconds(1);
    private static final System.Logger LOG = System.getLogger(NetBackend.class.getName());

    private final VirtioNet device;
    private final EventLoop loop;
    private final VhostUserBackend vhostUser;
    private boolean serving = true;

    private NetBackend(VirtioNet device, EventLoop loop, VhostUserBackend vhostUser) {
        this.device = device;
        this.loop = loop;
        this.vhostUser = vhostUser;
    }

    /**
     * Opens everything and starts serving.
     *
     * @param onNegotiated told the driver's features each time a front-end settles them
     */
    static NetBackend start(Settings settings, LongConsumer onNegotiated) throws StartupException {
        VirtioNet device = openDevice(settings);
        device.onNegotiated(onNegotiated);
        EventLoop loop;
        try {
            loop = EventLoop.start("vhost-user " + settings.socket().getFileName());
        } catch (NativeIoException e) {
            closeDevice(device);
            throw StartupException.failed("cannot start the control-plane event loop: " + e.getMessage(), e);
        }
        try {
            VhostUserBackend vhostUser = settings.client()
                    ? VhostUserBackend.connect(settings.socket(), RECONNECT_DELAY, settings.negotiationDeadline(), device,
                            loop)
                    : listen(settings, device, loop);
            return new NetBackend(device, loop, vhostUser);
        } catch (StartupException | RuntimeException e) {
            closeLoop(loop);
            closeDevice(device);
            throw e;
        }
    }

    private static VirtioNet openDevice(Settings settings) throws StartupException {
        Port port = settings.port().open(settings.device().queuePairs());
        PacketPool pool = new PacketPool(PoolConfig.defaults().withBudget(settings.poolBudget()));
        try {
            VirtioNet device = new VirtioNet(settings.device(), port, pool);
            pool.startRefiller();
            return device;
        } catch (NativeIoException e) {
            pool.close();
            port.close();
            throw StartupException.failed("cannot start the workers of " + port.describe() + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            // More pairs than the port serves: what the device checks before anything starts.
            pool.close();
            port.close();
            throw StartupException.badOption("--queues", e.getMessage(), e);
        }
    }

    private static VhostUserBackend listen(Settings settings, VirtioNet device, EventLoop loop)
            throws StartupException {
        Path socket = settings.socket();
        boolean existed = Files.exists(socket, LinkOption.NOFOLLOW_LINKS);
        VhostUserBackend backend;
        try {
            backend = VhostUserBackend.listen(socket, settings.socketMode().permissions(),
                    settings.negotiationDeadline(), device, loop);
        } catch (NativeIoException e) {
            throw StartupException.failed(whyNotListening(socket, existed, e), e);
        } catch (IOException e) {
            throw StartupException.failed("cannot listen on " + socket + ": " + e.getMessage(), e);
        }
        if (existed) {
            // UnixServerSocket replaces a socket file only when nothing answers on it.
            LOG.log(System.Logger.Level.INFO, "replaced " + socket + ", a socket file left by a backend that is gone");
        }
        return backend;
    }

    /** The refusals a user meets, in words that say what to do; the rest as libc tells them. */
    static String whyNotListening(Path socket, boolean existed, NativeIoException e) {
        Path directory = socket.toAbsolutePath().getParent();
        return switch (e.errno()) {
            case Errno.EADDRINUSE -> socket + " is in use: another backend listens on it";
            case Errno.EEXIST -> socket + " exists and is not a socket; remove it or choose another path";
            case Errno.ENOENT -> "cannot listen on " + socket + ": the directory " + directory + " does not exist";
            case Errno.EACCES -> existed
                    ? "cannot listen on " + socket + ": it exists and this user may not connect to it to see whether"
                            + " a backend still listens there"
                    : "cannot listen on " + socket + ": this user may not create files in " + directory;
            default -> "cannot listen on " + socket + ": " + e.getMessage();
        };
    }

    VirtioNet device() {
        return device;
    }

    /**
     * Closes the socket, which stops the device's queues, and the event loop. The counters stay
     * as they are from here on: what an exit report shows.
     */
    synchronized void stopServing() {
        if (!serving) {
            return;
        }
        serving = false;
        try {
            vhostUser.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "closing " + vhostUser.path() + ": " + e.getMessage());
        }
        closeLoop(loop);
    }

    /** Stops serving, then closes the device, its port and its pool. */
    @Override
    public synchronized void close() {
        stopServing();
        closeDevice(device);
    }

    private static void closeDevice(VirtioNet device) {
        device.close();
        device.pool().close();
    }

    private static void closeLoop(EventLoop loop) {
        try {
            loop.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
