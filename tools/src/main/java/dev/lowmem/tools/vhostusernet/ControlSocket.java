package dev.lowmem.tools.vhostusernet;

import dev.lowmem.tools.vhostusernet.ControlCommands.Reply;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.socket.Received;
import dev.lowmem.vmm.core.socket.UnixServerSocket;
import dev.lowmem.vmm.core.socket.UnixSocket;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code --ctl SOCKET}: the backend's control socket, a UNIX socket of its own that only its user
 * may connect to (mode 0600). A client connects, sends one request line, and reads one line of
 * JSON back, {@link ControlCommands}' reply, before the backend closes the connection ({@code
 * vhost-user-net ctl SOCKET REQUEST} is such a client). One thread serves the connections one
 * after the other; a client has {@link #DEADLINE} to send its request, so a silent one cannot keep
 * the others waiting for longer (a client that says nothing is then closed without a reply). A request that is too long or that the backend cannot carry out
 * gets an error reply, never a dropped connection.
 */
final class ControlSocket implements AutoCloseable {
    /** The longest request line, in bytes. */
    static final int MAX_REQUEST = 4096;
    /** How long a client has from its connection being accepted to its request being read. */
    static final Duration DEADLINE = Duration.ofSeconds(5);
    private static final System.Logger LOG = System.getLogger(ControlSocket.class.getName());

    private final UnixServerSocket listener;
    private final ControlCommands commands;
    private final Duration deadline;
    private final ScheduledExecutorService deadlines;
    private volatile boolean closed;
    private Thread serving;

    private ControlSocket(UnixServerSocket listener, ControlCommands commands, Duration deadline) {
        this.listener = listener;
        this.commands = commands;
        this.deadline = deadline;
        this.deadlines = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("ctl deadline").daemon()
                .factory());
    }

    /** Listens on {@code path}, owner-only, and serves requests on a thread of its own. */
    static ControlSocket start(Path path, ControlCommands commands) throws IOException {
        return start(path, commands, DEADLINE);
    }

    /** As {@link #start(Path, ControlCommands)}, a client having {@code deadline} to send its request. */
    static ControlSocket start(Path path, ControlCommands commands, Duration deadline) throws IOException {
        ControlSocket socket = new ControlSocket(UnixServerSocket.listen(path, UnixServerSocket.OWNER_ONLY), commands,
                deadline);
        socket.serving = Thread.ofPlatform().name("ctl").daemon().start(socket::serveAll);
        return socket;
    }

    Path path() {
        return listener.path();
    }

    private void serveAll() {
        while (!closed) {
            try (UnixSocket connection = listener.accept()) {
                serve(connection);
            } catch (NativeIoException e) {
                if (closed) {
                    return;
                }
                // A client gone before its reply: its loss alone.
                LOG.log(System.Logger.Level.DEBUG, listener.path() + ": " + e.getMessage());
            }
        }
    }

    private void serve(UnixSocket connection) throws NativeIoException {
        AtomicBoolean served = new AtomicBoolean();
        ScheduledFuture<?> timeout = deadlines.schedule(() -> endQuietly(connection, served), deadline.toMillis(),
                TimeUnit.MILLISECONDS);
        try (Arena arena = Arena.ofConfined()) {
            String request = request(connection, arena.allocate(MAX_REQUEST + 1));
            Reply reply = request == null ? Reply.error("a request longer than " + MAX_REQUEST + " bytes")
                    : commands.execute(request);
            byte[] bytes = (reply.json() + "\n").getBytes(StandardCharsets.UTF_8);
            MemorySegment out = arena.allocate(bytes.length);
            MemorySegment.copy(bytes, 0, out, ValueLayout.JAVA_BYTE, 0, bytes.length);
            connection.send(out);
            if (request == null) {
                drain(connection, arena.allocate(MAX_REQUEST));
            }
        } finally {
            synchronized (served) {
                // From here the deadline leaves the connection alone, which its caller closes.
                served.set(true);
            }
            timeout.cancel(false);
        }
    }

    /**
     * The request line, without its end; what came before the end of the stream when no line end
     * did; null when more than {@link #MAX_REQUEST} bytes came without one.
     */
    private static String request(UnixSocket connection, MemorySegment buffer) throws NativeIoException {
        long length = 0;
        while (length < buffer.byteSize()) {
            // Descriptors a client passes are never installed (0 taken).
            Received received = connection.receive(buffer.asSlice(length), 0);
            if (received.endOfStream()) {
                break;
            }
            for (long i = length; i < length + received.bytes(); i++) {
                if (buffer.get(ValueLayout.JAVA_BYTE, i) == '\n') {
                    return text(buffer, i);
                }
            }
            length += received.bytes();
        }
        return length > MAX_REQUEST ? null : text(buffer, length);
    }

    /**
     * Reads what the client sent beyond a request too long, up to its end (or the deadline): a
     * connection closed with bytes unread is reset, and the client would lose the reply.
     */
    private static void drain(UnixSocket connection, MemorySegment buffer) throws NativeIoException {
        while (!connection.receive(buffer, 0).endOfStream()) {
            // Thrown away.
        }
    }

    private static String text(MemorySegment buffer, long length) {
        return new String(buffer.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    /** The deadline passed: a receive under way returns the end of the stream, unless the connection was served. */
    private static void endQuietly(UnixSocket connection, AtomicBoolean served) {
        synchronized (served) {
            if (served.get()) {
                return;
            }
            try {
                connection.shutdown();
            } catch (NativeIoException e) {
                LOG.log(System.Logger.Level.DEBUG, "ending a connection: " + e.getMessage());
            }
        }
    }

    /** Stops serving, waiting a moment for a request under way, and removes the socket file. */
    @Override
    public void close() throws IOException {
        closed = true;
        listener.shutdown();
        try {
            serving.join(DEADLINE.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        listener.close();
        deadlines.shutdownNow();
    }
}
