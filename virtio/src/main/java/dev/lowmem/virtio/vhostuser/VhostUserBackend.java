package dev.lowmem.virtio.vhostuser;

import dev.lowmem.virtio.device.VirtioDevice;
import dev.lowmem.vmm.core.event.EventLoop;
import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.socket.UnixServerSocket;
import dev.lowmem.vmm.core.socket.UnixSocket;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Serves one device over one vhost-user socket, on a control-plane {@link EventLoop} that may
 * serve other back-ends too. Either it listens on a path (QEMU connects, as with
 * {@code -chardev socket,path=...}) or it connects to a path and connects again whenever the
 * front-end goes away (QEMU with {@code server=on}). One front-end at a time: a second one that
 * connects while the first is served is told so in the log and its connection closed, which is
 * all the protocol has for a refusal.
 */
public final class VhostUserBackend implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(VhostUserBackend.class.getName());

    private final Path path;
    private final VirtioDevice device;
    private final EventLoop loop;
    /** Listen mode only. */
    private final UnixServerSocket listener;
    /** Connect mode only: how long to wait before connecting again. */
    private final Duration reconnectDelay;
    private final ScheduledExecutorService reconnects;
    private BackendSession session;
    private UnixSocket sessionSocket;
    private boolean reportedUnreachable;
    private boolean closed;

    private VhostUserBackend(Path path, VirtioDevice device, EventLoop loop, UnixServerSocket listener,
            Duration reconnectDelay) {
        this.path = path;
        this.device = device;
        this.loop = loop;
        this.listener = listener;
        this.reconnectDelay = reconnectDelay;
        this.reconnects = listener == null ? Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform()
                .name("vhost-user-reconnect " + path.getFileName()).daemon().factory()) : null;
    }

    /** Listens on {@code path}, owner-only. */
    public static VhostUserBackend listen(Path path, VirtioDevice device, EventLoop loop) throws IOException {
        return listen(path, UnixServerSocket.OWNER_ONLY, device, loop);
    }

    /** Listens on {@code path} with the file mode {@code mode}. */
    public static VhostUserBackend listen(Path path, Set<PosixFilePermission> mode, VirtioDevice device, EventLoop loop)
            throws IOException {
        UnixServerSocket listener = UnixServerSocket.listen(path, mode);
        VhostUserBackend backend = new VhostUserBackend(path, device, loop, listener, null);
        try {
            // A front-end that connects and leaves before the accept must not block the loop in accept().
            listener.fd().setNonBlocking(true);
            backend.onLoop(() -> {
                loop.register(listener.fd(), LibC.EPOLLIN, events -> backend.accept());
                return null;
            });
        } catch (IOException | RuntimeException e) {
            listener.close();
            throw e;
        }
        LOG.log(System.Logger.Level.INFO, "listening for a vhost-user front-end on " + path);
        return backend;
    }

    /**
     * Connects to a front-end listening on {@code path}, and again {@code reconnectDelay} after it
     * goes away or while it is not there.
     */
    public static VhostUserBackend connect(Path path, Duration reconnectDelay, VirtioDevice device, EventLoop loop) {
        VhostUserBackend backend = new VhostUserBackend(path, device, loop, null, reconnectDelay);
        loop.execute(backend::tryConnect);
        return backend;
    }

    public Path path() {
        return path;
    }

    private void accept() throws NativeIoException {
        UnixSocket socket;
        try {
            socket = listener.accept();
        } catch (NativeIoException e) {
            if (e.errno() == Errno.EAGAIN) {
                return;
            }
            throw e;
        }
        if (session != null) {
            LOG.log(System.Logger.Level.WARNING, path + ": refused a second front-end: one is connected already,"
                    + " and a back-end serves one at a time");
            socket.close();
            return;
        }
        startSession(socket);
    }

    private void tryConnect() {
        if (closed || session != null) {
            return;
        }
        try {
            startSession(UnixSocket.connect(path));
            reportedUnreachable = false;
        } catch (NativeIoException e) {
            if (!reportedUnreachable) {
                LOG.log(System.Logger.Level.INFO, "no front-end at " + path + " yet (" + e.getMessage()
                        + "); trying every " + reconnectDelay.toMillis() + " ms");
                reportedUnreachable = true;
            }
            scheduleReconnect();
        }
    }

    private void scheduleReconnect() {
        reconnects.schedule(() -> loop.execute(this::tryConnect), reconnectDelay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void startSession(UnixSocket socket) throws NativeIoException {
        try {
            socket.fd().setNonBlocking(true);
            BackendSession started = new BackendSession(path.toString(), new MessageChannel(socket, false), device);
            loop.register(socket.fd(), LibC.EPOLLIN, events -> {
                if (!started.onReadable()) {
                    endSession();
                }
            });
            session = started;
            sessionSocket = socket;
        } catch (NativeIoException | RuntimeException e) {
            socket.close();
            throw e;
        }
        LOG.log(System.Logger.Level.INFO, path + ": front-end connected");
    }

    private void endSession() {
        if (session == null) {
            return;
        }
        loop.unregister(sessionSocket.fd());
        session.close();
        session = null;
        sessionSocket = null;
        if (!closed && reconnects != null) {
            scheduleReconnect();
        }
    }

    /** Ends the session, if any, and stops listening or reconnecting. */
    @Override
    public void close() throws IOException {
        onLoop(() -> {
            closed = true;
            endSession();
            if (listener != null) {
                loop.unregister(listener.fd());
            }
            return null;
        });
        if (listener != null) {
            listener.close();
        } else {
            reconnects.shutdownNow();
        }
    }

    private interface LoopTask {
        Void run() throws IOException;
    }

    private void onLoop(LoopTask task) throws IOException {
        try {
            loop.submit(task::run).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for " + path + "'s event loop", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(path + ": " + e.getCause().getMessage(), e.getCause());
        }
    }
}
