package dev.lowmem.virtio.vhostuser;

import dev.lowmem.vmm.core.event.Epoll;
import dev.lowmem.vmm.core.event.EpollEvents;
import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.socket.Received;
import dev.lowmem.vmm.core.socket.UnixSocket;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A front-end that connects and then never settles: it says nothing, or trickles the bytes of
 * GET_FEATURES requests one at a time. It watches for the back-end closing the connection.
 */
final class StallingFrontend implements AutoCloseable {
    private static final long TIMEOUT_NANOS = Duration.ofSeconds(3).toNanos();

    private final UnixSocket socket;
    private final long connectedAt;
    private final Arena arena = Arena.ofShared();
    private final Epoll epoll;
    private final EpollEvents ready = new EpollEvents(arena, 1);
    private final MemorySegment scratch = arena.allocate(256);
    /** GET_FEATURES, which a back-end answers without settling the session: bytes that keep it busy. */
    private final MemorySegment request = arena.allocate(VhostUserHeader.SIZE);
    private long trickled;

    private StallingFrontend(UnixSocket socket) throws NativeIoException {
        this.socket = socket;
        this.connectedAt = System.nanoTime();
        this.epoll = Epoll.create();
        epoll.add(socket.fd(), LibC.EPOLLIN, 0);
        request.set(ValueLayout.JAVA_INT, VhostUserHeader.REQUEST_OFFSET, VhostUserRequest.GET_FEATURES.code());
        request.set(ValueLayout.JAVA_INT, VhostUserHeader.FLAGS_OFFSET, VhostUserHeader.VERSION);
        request.set(ValueLayout.JAVA_INT, VhostUserHeader.SIZE_OFFSET, 0);
    }

    static StallingFrontend connect(Path socket) throws NativeIoException {
        return over(UnixSocket.connect(socket));
    }

    /** On a connected socket, such as one a front-end's listening socket accepted from a connecting back-end. */
    static StallingFrontend over(UnixSocket socket) throws NativeIoException {
        return new StallingFrontend(socket);
    }

    /**
     * Says nothing until the back-end closes the connection.
     *
     * @return how long after connecting the back-end closed it
     * @throws AssertionError when it was still open 3 s after connecting
     */
    Duration awaitClosed() throws NativeIoException {
        closedByBackendWithin(TIMEOUT_NANOS);
        return sinceConnected();
    }

    /**
     * Sends one byte every {@code gap} until the back-end closes the connection.
     *
     * @return how long after connecting the back-end closed it
     * @throws AssertionError when it was still open 3 s after connecting
     */
    Duration trickleUntilClosed(Duration gap) throws NativeIoException {
        while (true) {
            if (!sendNextByte() || closedByBackendWithin(gap.toNanos())) {
                return sinceConnected();
            }
        }
    }

    /** False when the back-end has closed the connection already. */
    private boolean sendNextByte() throws NativeIoException {
        try {
            socket.send(request.asSlice(trickled++ % VhostUserHeader.SIZE, 1));
            return true;
        } catch (NativeIoException e) {
            if (e.errno() == Errno.EPIPE || e.errno() == Errno.ECONNRESET) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Waits up to {@code nanos} for the connection to end, taking any reply that comes meanwhile.
     *
     * @throws AssertionError when the connection is still open 3 s after it was made
     */
    private boolean closedByBackendWithin(long nanos) throws NativeIoException {
        long limit = connectedAt + TIMEOUT_NANOS;
        long until = System.nanoTime() + nanos;
        while (true) {
            long now = System.nanoTime();
            if (now - limit >= 0) {
                throw new AssertionError("the back-end still held an unsettled connection after "
                        + sinceConnected().toMillis() + " ms");
            }
            if (now - until >= 0) {
                return false;
            }
            long left = Math.min(until - now, limit - now);
            if (epoll.wait(ready, (int) Math.max(1, left / 1_000_000)) > 0 && endOfStream()) {
                return true;
            }
        }
    }

    private boolean endOfStream() throws NativeIoException {
        try {
            Received received = socket.receive(scratch, 0);
            return received.endOfStream();
        } catch (NativeIoException e) {
            // A peer that closes with our bytes still unread resets the connection (unix(7)).
            if (e.errno() == Errno.ECONNRESET) {
                return true;
            }
            throw e;
        }
    }

    private Duration sinceConnected() {
        return Duration.ofNanos(System.nanoTime() - connectedAt);
    }

    @Override
    public void close() {
        epoll.close();
        socket.close();
        arena.close();
    }
}
