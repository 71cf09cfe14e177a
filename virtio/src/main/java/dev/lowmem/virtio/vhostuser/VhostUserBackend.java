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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Serves one device over one vhost-user socket, on a control-plane {@link EventLoop} that may
 * serve other back-ends too. Either it listens on a path (QEMU connects, as with
 * {@code -chardev socket,path=...}) or it connects to a path and connects again whenever the
 * front-end goes away (QEMU with {@code server=on}). One front-end at a time: a second one that
 * connects while the first is served is told so in the log and its connection closed, which is
 * all the protocol has for a refusal.
 *
 * <p>A session must settle within its negotiation deadline: send SET_OWNER, which the vhost-user
 * spec has a front-end issue "when a new connection is established" and a back-end use as the
 * "session start" flag (QEMU sends it among its first messages, before its guest boots; DPDK's
 * virtio_user sends it first). A connection that has not, silent or slow, is closed when the
 * deadline passes, so that it cannot keep every other front-end out; in connect mode the
 * back-end then connects again. A settled session keeps the socket for as long as it lasts,
 * for QEMU may wait minutes for its guest's driver.
 */
public final class VhostUserBackend implements AutoCloseable {
    /** How long a front-end has from connecting to SET_OWNER, unless told otherwise. */
    public static final Duration DEFAULT_NEGOTIATION_DEADLINE = Duration.ofSeconds(5);

    private static final System.Logger LOG = System.getLogger(VhostUserBackend.class.getName());

    private final Path path;
    private final VirtioDevice device;
    private final EventLoop loop;
    /** Listen mode only. */
    private final UnixServerSocket listener;
    /** Connect mode only: how long to wait before connecting again. */
    private final Duration reconnectDelay;
    private final Duration negotiationDeadline;
    /**
     * Waits out reconnect delays and negotiation deadlines, then hands the work to the loop's
     * thread: a parked thread, never a loop that polls the clock.
     */
    private final ScheduledThreadPoolExecutor timers;
    private BackendSession session;
    private UnixSocket sessionSocket;
    /** The current session's negotiation deadline, cancelled when the session ends first. */
    private ScheduledFuture<?> sessionDeadline;
    private boolean reportedUnreachable;
    private boolean closed;

    private VhostUserBackend(Path path, VirtioDevice device, EventLoop loop, UnixServerSocket listener,
            Duration reconnectDelay, Duration negotiationDeadline) {
        if (negotiationDeadline.isNegative() || negotiationDeadline.isZero()) {
            throw new IllegalArgumentException("a negotiation deadline of " + negotiationDeadline
                    + " would close every front-end before its first message");
        }
        this.path = path;
        this.device = device;
        this.loop = loop;
        this.listener = listener;
        this.reconnectDelay = reconnectDelay;
        this.negotiationDeadline = negotiationDeadline;
        this.timers = new ScheduledThreadPoolExecutor(1, Thread.ofPlatform()
                .name("vhost-user-timers " + path.getFileName()).daemon().factory());
        // A session that settles cancels its deadline; the queue must not keep it until it would have passed.
        timers.setRemoveOnCancelPolicy(true);
    }

    /** Listens on {@code path}, owner-only, with the default negotiation deadline. */
    public static VhostUserBackend listen(Path path, VirtioDevice device, EventLoop loop) throws IOException {
        return listen(path, UnixServerSocket.OWNER_ONLY, DEFAULT_NEGOTIATION_DEADLINE, device, loop);
    }

    /**
     * Listens on {@code path} with the file mode {@code mode}; a front-end that has not sent
     * SET_OWNER {@code negotiationDeadline} after connecting is closed.
     */
    public static VhostUserBackend listen(Path path, Set<PosixFilePermission> mode, Duration negotiationDeadline,
            VirtioDevice device, EventLoop loop) throws IOException {
        return serve(UnixServerSocket.listen(path, mode), negotiationDeadline, device, loop);
    }

    /**
     * Serves on {@code listener}, a socket listening already (one inherited from a service
     * manager, say), which it closes when it closes; otherwise as {@link #listen(Path, Set,
     * Duration, VirtioDevice, EventLoop)}.
     */
    public static VhostUserBackend serve(UnixServerSocket listener, Duration negotiationDeadline, VirtioDevice device,
            EventLoop loop) throws IOException {
        Path path = listener.path();
        VhostUserBackend backend;
        try {
            backend = new VhostUserBackend(path, device, loop, listener, null, negotiationDeadline);
        } catch (RuntimeException e) {
            listener.close();
            throw e;
        }
        try {
            // A front-end that connects and leaves before the accept must not block the loop in accept().
            listener.fd().setNonBlocking(true);
            backend.onLoop(() -> {
                loop.register(listener.fd(), LibC.EPOLLIN, events -> backend.accept());
                return null;
            });
        } catch (IOException | RuntimeException e) {
            listener.close();
            backend.timers.shutdownNow();
            throw e;
        }
        LOG.log(System.Logger.Level.INFO, "listening for a vhost-user front-end on " + path
                + (listener.inherited() ? ", inherited" : ""));
        return backend;
    }

    /**
     * Connects to a front-end listening on {@code path}, and again {@code reconnectDelay} after it
     * goes away or while it is not there; with the default negotiation deadline.
     */
    public static VhostUserBackend connect(Path path, Duration reconnectDelay, VirtioDevice device, EventLoop loop) {
        return connect(path, reconnectDelay, DEFAULT_NEGOTIATION_DEADLINE, device, loop);
    }

    /**
     * Connects as {@link #connect(Path, Duration, VirtioDevice, EventLoop)} does; a front-end that
     * has not sent SET_OWNER {@code negotiationDeadline} after the connection is left, and
     * connected to again.
     */
    public static VhostUserBackend connect(Path path, Duration reconnectDelay, Duration negotiationDeadline,
            VirtioDevice device, EventLoop loop) {
        VhostUserBackend backend = new VhostUserBackend(path, device, loop, null, reconnectDelay, negotiationDeadline);
        loop.execute(backend::tryConnect);
        return backend;
    }

    public Path path() {
        return path;
    }

    /**
     * The guest memory the current session has mapped (null without a session or with an empty
     * table), read on the loop's thread: for tests that check translation against the front-end's
     * bytes. Valid until the session's next memory-table change.
     */
    java.util.concurrent.CompletableFuture<dev.lowmem.vmm.core.memory.GuestMemory> currentMemory() {
        return loop.submit(() -> session == null ? null : session.memory());
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
        later(reconnectDelay, this::tryConnect);
    }

    /** Runs {@code task} on the loop's thread {@code delay} from now, unless the loop has stopped by then. */
    private ScheduledFuture<?> later(Duration delay, Runnable task) {
        return timers.schedule(() -> {
            try {
                loop.execute(task);
            } catch (RejectedExecutionException loopClosed) {
                // Nothing left to serve.
            }
        }, delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void startSession(UnixSocket socket) throws NativeIoException {
        try {
            socket.fd().setNonBlocking(true);
            BackendSession started = new BackendSession(path.toString(), new MessageChannel(socket, false), device,
                    loop::execute);
            loop.register(socket.fd(), LibC.EPOLLIN, events -> {
                if (!started.onReadable()) {
                    endSession();
                }
            });
            sessionDeadline = later(negotiationDeadline, () -> expireUnsettled(started));
            session = started;
            sessionSocket = socket;
        } catch (NativeIoException | RuntimeException e) {
            socket.close();
            throw e;
        }
        LOG.log(System.Logger.Level.INFO, path + ": front-end connected");
    }

    /** Closes {@code expired} if it is still the session being served and has not sent SET_OWNER. */
    private void expireUnsettled(BackendSession expired) {
        if (session != expired || expired.settled()) {
            return;
        }
        LOG.log(System.Logger.Level.WARNING, path + ": closing the front-end's connection: no SET_OWNER within "
                + negotiationDeadline.toMillis() + " ms of connecting; "
                + (listener != null ? "the socket is free for the next front-end"
                        : "connecting again in " + reconnectDelay.toMillis() + " ms"));
        endSession();
    }

    private void endSession() {
        if (session == null) {
            return;
        }
        sessionDeadline.cancel(false);
        sessionDeadline = null;
        loop.unregister(sessionSocket.fd());
        session.close();
        session = null;
        sessionSocket = null;
        if (!closed && listener == null) {
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
        }
        timers.shutdownNow();
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
