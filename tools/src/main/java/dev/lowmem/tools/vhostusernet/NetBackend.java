package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.net.NetDeviceOptions;
import dev.lowmem.devices.net.VirtioNet;
import dev.lowmem.devices.port.Port;
import dev.lowmem.devices.port.TapPort;
import dev.lowmem.devices.port.sw.L2Switch;
import dev.lowmem.devices.port.sw.MacTable;
import dev.lowmem.devices.port.sw.SwitchPort;
import dev.lowmem.virtio.vhostuser.VhostUserBackend;
import dev.lowmem.vmm.core.event.EventLoop;
import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.pool.PacketPool;
import dev.lowmem.vmm.core.pool.PoolConfig;
import dev.lowmem.vmm.core.socket.UnixServerSocket;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.ObjLongConsumer;

/**
 * The running backend: the packet pool, the ports, the virtio-net devices in front of them (one,
 * or with {@code --switch} one per socket, joined by an {@link L2Switch}), the control-plane event
 * loop that serves every socket, and the vhost-user sockets. Started in that order and stopped in
 * the reverse one, so that a failure half-way leaves nothing open.
 */
final class NetBackend implements AutoCloseable {
    /** How long {@code --client} waits before connecting again, as QEMU's own {@code reconnect=1}. */
    static final Duration RECONNECT_DELAY = Duration.ofSeconds(1);
    private static final System.Logger LOG = System.getLogger(NetBackend.class.getName());

    private final PacketPool pool;
    private final L2Switch fabric;
    private final CaptureControl capture;
    private final List<Path> sockets;
    private final List<VirtioNet> devices;
    private final EventLoop loop;
    private final List<VhostUserBackend> vhostUsers;
    /** What {@link #close()} closes after the sockets and the loop, last opened first: devices, switch, pool. */
    private final Deque<AutoCloseable> parts;
    private boolean serving = true;

    private NetBackend(Opened opened, EventLoop loop, List<VhostUserBackend> vhostUsers) {
        this.pool = opened.pool;
        this.fabric = opened.fabric;
        this.capture = opened.capture;
        this.sockets = opened.sockets;
        this.devices = List.copyOf(opened.devices);
        this.parts = opened.parts;
        this.loop = loop;
        this.vhostUsers = List.copyOf(vhostUsers);
    }

    /**
     * Opens everything and starts serving.
     *
     * @param onNegotiated told a device's socket and its driver's features each time a front-end settles them
     */
    static NetBackend start(Settings settings, ObjLongConsumer<Path> onNegotiated) throws StartupException {
        Opened opened = new Opened(settings);
        try {
            opened.openDevices(settings);
        } catch (StartupException | RuntimeException e) {
            opened.close();
            throw e;
        }
        for (int i = 0; i < opened.devices.size(); i++) {
            Path socket = opened.sockets.get(i);
            opened.devices.get(i).onNegotiated(features -> onNegotiated.accept(socket, features));
        }
        EventLoop loop;
        try {
            loop = EventLoop.start("vhost-user " + settings.sockets().getFirst().getFileName());
        } catch (NativeIoException e) {
            opened.close();
            throw StartupException.failed("cannot start the control-plane event loop: " + e.getMessage(), e);
        }
        List<VhostUserBackend> vhostUsers = new ArrayList<>();
        try {
            for (int i = 0; i < opened.devices.size(); i++) {
                vhostUsers.add(serve(settings, opened.sockets.get(i), opened.devices.get(i), loop));
            }
            return new NetBackend(opened, loop, vhostUsers);
        } catch (StartupException | RuntimeException e) {
            closeSockets(vhostUsers);
            closeLoop(loop);
            opened.close();
            throw e;
        }
    }

    /** The pool, the switch and the devices as they open, closed in reverse if one fails. */
    private static final class Opened {
        final PacketPool pool;
        final List<Path> sockets;
        final List<VirtioNet> devices = new ArrayList<>();
        final Deque<AutoCloseable> parts = new ArrayDeque<>();
        L2Switch fabric;
        CaptureControl capture;

        Opened(Settings settings) {
            pool = new PacketPool(PoolConfig.defaults().withBudget(settings.poolBudget()));
            parts.push(pool);
            sockets = settings.sockets();
        }

        void openDevices(Settings settings) throws StartupException {
            if (settings.switching()) {
                fabric = new L2Switch(new MacTable(settings.macAgeing(), System::nanoTime), pool);
                parts.push(fabric);
                for (int i = 0; i < sockets.size(); i++) {
                    add(settings.device(i), switchPort(sockets.get(i), settings.device(i).queuePairs()));
                }
                if (settings.port() instanceof PortChoice.Tap tap) {
                    addUplink(tap);
                }
            } else {
                add(settings.device(), settings.port().open(settings.device().queuePairs()));
            }
            // Closed before the devices, whose workers then skip it.
            capture = new CaptureControl(devices.stream().map(VirtioNet::capture).toList());
            parts.push(capture);
            if (settings.capture() != null) {
                startCapture(settings.capture());
            }
            pool.startRefiller();
        }

        /** {@code --pcap}: from the start. */
        private void startCapture(Settings.Capture file) throws StartupException {
            try {
                capture.start(file.file(), file.maxBytes());
            } catch (IOException e) {
                throw StartupException.failed("cannot write the capture " + file.file() + ": " + e.getMessage(), e);
            }
        }

        private SwitchPort switchPort(Path socket, int pairs) throws StartupException {
            try {
                return fabric.addPort(socket.getFileName().toString(), pairs);
            } catch (NativeIoException e) {
                throw StartupException.failed("cannot make a switch port for " + socket + ": " + e.getMessage(), e);
            }
        }

        /** The switch's port to the host, on its own thread; closed before the switch. */
        private void addUplink(PortChoice.Tap tap) throws StartupException {
            TapPort port = tap.openTap(1);
            try {
                parts.push(fabric.addUplink(port));
            } catch (IOException e) {
                throw StartupException.failed("cannot serve " + port.describe() + " as the switch's uplink: "
                        + e.getMessage(), e);
            }
        }

        /** The device on {@code port}, which it owns from here, also when it fails to start. */
        private void add(NetDeviceOptions options, Port port) throws StartupException {
            VirtioNet device;
            try {
                device = new VirtioNet(options, port, pool);
            } catch (NativeIoException e) {
                port.close();
                throw StartupException.failed("cannot start the workers of " + port.describe() + ": " + e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                // More pairs than the port serves: what the device checks before anything starts.
                port.close();
                throw StartupException.badOption("--queues", e.getMessage(), e);
            }
            devices.add(device);
            parts.push(device);
        }

        void close() {
            closeAll(parts);
        }
    }

    private static VhostUserBackend serve(Settings settings, Path socket, VirtioNet device, EventLoop loop)
            throws StartupException {
        if (settings.client()) {
            return VhostUserBackend.connect(socket, RECONNECT_DELAY, settings.negotiationDeadline(), device, loop);
        }
        return settings.listenFd() >= 0 ? serveInherited(settings, device, loop) : listen(settings, socket, device, loop);
    }

    /** Serves on the listening socket a service manager passed as {@link Settings#listenFd()}. */
    private static VhostUserBackend serveInherited(Settings settings, VirtioNet device, EventLoop loop)
            throws StartupException {
        UnixServerSocket listener;
        try {
            listener = UnixServerSocket.inherit(settings.listenFd());
        } catch (IOException e) {
            throw StartupException.failed("cannot serve on --fd " + settings.listenFd() + ": " + e.getMessage(), e);
        }
        try {
            return VhostUserBackend.serve(listener, settings.negotiationDeadline(), device, loop);
        } catch (IOException e) {
            throw StartupException.failed("cannot serve on fd " + settings.listenFd() + ": " + e.getMessage(), e);
        }
    }

    private static VhostUserBackend listen(Settings settings, Path socket, VirtioNet device, EventLoop loop)
            throws StartupException {
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

    /** The devices, one per socket in the order given. */
    List<VirtioNet> devices() {
        return devices;
    }

    List<Path> sockets() {
        return sockets;
    }

    /** The pool every device draws on: its budget can change while the backend runs. */
    PacketPool pool() {
        return pool;
    }

    /** The capture of every device's frames, which {@code --pcap} starts and a request starts and stops. */
    CaptureControl capture() {
        return capture;
    }

    /** Every counter now: each device's, and each switch port's with {@code --switch}. */
    StatsSnapshot snapshot(Instant time) {
        List<DeviceStats> deviceStats = new ArrayList<>(devices.size());
        for (int i = 0; i < devices.size(); i++) {
            deviceStats.add(DeviceStats.of(fabric == null ? null : sockets.get(i).getFileName().toString(),
                    devices.get(i)));
        }
        List<SwitchPortStats> ports = fabric == null ? List.of()
                : fabric.members().stream().map(SwitchPortStats::of).toList();
        return new StatsSnapshot(time, deviceStats, ports, pool.stats(), GcStats.now());
    }

    /**
     * Closes the sockets, which stops the devices' queues, and the event loop. The counters stay
     * as they are from here on: what an exit report shows.
     */
    synchronized void stopServing() {
        if (!serving) {
            return;
        }
        serving = false;
        closeSockets(vhostUsers);
        closeLoop(loop);
    }

    /** Stops serving, then closes the devices, their ports, the switch and the pool. */
    @Override
    public synchronized void close() {
        stopServing();
        closeAll(parts);
    }

    private static void closeSockets(List<VhostUserBackend> vhostUsers) {
        for (VhostUserBackend vhostUser : vhostUsers) {
            try {
                vhostUser.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "closing " + vhostUser.path() + ": " + e.getMessage());
            }
        }
    }

    /** Closes and forgets each part, last opened first. */
    private static void closeAll(Deque<AutoCloseable> parts) {
        while (!parts.isEmpty()) {
            try {
                parts.pop().close();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "closing: " + e.getMessage());
            }
        }
    }

    private static void closeLoop(EventLoop loop) {
        try {
            loop.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
