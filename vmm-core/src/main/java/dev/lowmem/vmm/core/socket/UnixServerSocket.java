package dev.lowmem.vmm.core.socket;

import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.Errors;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.Set;

/**
 * A listening UNIX stream socket bound to a path. It replaces a stale socket file left by a
 * process that died, refuses a path a live listener holds or that is not a socket, sets the
 * file's mode before any peer can connect, and removes its own file when closed. Or one a parent
 * process (systemd's socket activation, say) made and handed over as an open descriptor, whose
 * file, if any, stays its creator's.
 */
public final class UnixServerSocket implements AutoCloseable {
    /** Owner read and write: only the user running the backend may connect. */
    public static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private static final int S_IFMT = 0xF000;
    private static final int S_IFSOCK = 0xC000;
    private static final int BACKLOG = 8;

    private final FileDescriptor fd;
    private final Path path;
    /** The bound file's key; null for an inherited socket, whose file this never removes. */
    private final Object fileKey;
    private final boolean inherited;

    private UnixServerSocket(FileDescriptor fd, Path path, Object fileKey, boolean inherited) {
        this.fd = fd;
        this.path = path;
        this.fileKey = fileKey;
        this.inherited = inherited;
    }

    /** Listens on {@code path}, owner-only. */
    public static UnixServerSocket listen(Path path) throws IOException {
        return listen(path, OWNER_ONLY);
    }

    /**
     * Listens on {@code path} with the file mode {@code mode}.
     *
     * @throws NativeIoException with EADDRINUSE when a live listener holds the path, or EEXIST
     *         when the path is something other than a socket
     */
    public static UnixServerSocket listen(Path path, Set<PosixFilePermission> mode) throws IOException {
        removeStaleSocket(path);
        FileDescriptor fd = FileDescriptor.adopt(Errors.check("socket",
                LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0)));
        try (Arena arena = Arena.ofConfined()) {
            SocketAddress address = SocketAddress.of(path, arena);
            Errors.check("bind", path.toString(), LibC.bind(fd.intValue(), address.address(), address.length()));
        } catch (IOException | RuntimeException e) {
            fd.close();
            throw e;
        }
        try {
            // Connections are refused until listen(), so setting the mode in between leaves no window.
            Files.setPosixFilePermissions(path, mode);
            Errors.check("listen", path.toString(), LibC.listen(fd.intValue(), BACKLOG));
            Object fileKey = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            return new UnixServerSocket(fd, path, fileKey, false);
        } catch (IOException | RuntimeException e) {
            fd.close();
            Files.deleteIfExists(path);
            throw e;
        }
    }

    /**
     * A socket file whose listener is gone refuses connections; such a file is removed. A
     * listener that answers, or a path that is not a socket, is left alone and reported. The probe
     * does not block: a live listener with a full backlog answers EAGAIN, which counts as live.
     */
    private static void removeStaleSocket(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & S_IFMT) != S_IFSOCK) {
            throw new NativeIoException("bind", path + " (exists and is not a socket)", Errno.EEXIST);
        }
        try {
            UnixSocket.connect(path, LibC.SOCK_NONBLOCK).close();
        } catch (NativeIoException e) {
            if (e.errno() == Errno.ECONNREFUSED) {
                Files.deleteIfExists(path);
                return;
            }
            if (e.errno() == Errno.ENOENT) {
                return;
            }
            if (e.errno() != Errno.EAGAIN) {
                throw e;
            }
        }
        throw new NativeIoException("bind", path + " (a running listener holds it)", Errno.EADDRINUSE);
    }

    /**
     * The listening UNIX stream socket open as descriptor {@code number}, inherited from the
     * parent; it is named "fd N" where a path would be, and set close-on-exec.
     *
     * @throws IOException naming what {@code number} is instead: not open, not a socket, not a
     *         UNIX stream socket, or not listening
     */
    public static UnixServerSocket inherit(int number) throws IOException {
        if (number < 0) {
            throw new IllegalArgumentException("fd " + number);
        }
        String name = "fd " + number;
        int domain;
        int type;
        int accepting;
        try (Arena arena = Arena.ofConfined()) {
            domain = socketOption(arena, number, LibC.SO_DOMAIN);
            type = socketOption(arena, number, LibC.SO_TYPE);
            accepting = socketOption(arena, number, LibC.SO_ACCEPTCONN);
        } catch (NativeIoException e) {
            throw switch (e.errno()) {
                case Errno.EBADF -> new IOException(name + " is not open", e);
                case Errno.ENOTSOCK -> new IOException(name + " is not a socket", e);
                default -> e;
            };
        }
        if (domain != LibC.AF_UNIX || type != LibC.SOCK_STREAM) {
            throw new IOException(name + " is not a UNIX stream socket (domain " + domain + ", type " + type + ")");
        }
        if (accepting == 0) {
            throw new IOException(name + " is a UNIX stream socket that is not listening");
        }
        Errors.check("fcntl(F_SETFD)", name, LibC.fcntl(number, LibC.F_SETFD, LibC.FD_CLOEXEC));
        return new UnixServerSocket(FileDescriptor.adopt(number), Path.of(name), null, true);
    }

    private static int socketOption(Arena arena, int fd, int option) throws NativeIoException {
        MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
        MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
        length.set(ValueLayout.JAVA_INT, 0, Integer.BYTES);
        Errors.check("getsockopt", "fd " + fd, LibC.getsockopt(fd, LibC.SOL_SOCKET, option, value.address(),
                length.address()));
        return value.get(ValueLayout.JAVA_INT, 0);
    }

    /** Whether the socket came open from the parent ({@link #inherit}) rather than bound here. */
    public boolean inherited() {
        return inherited;
    }

    /** Waits for and accepts one connection. */
    public UnixSocket accept() throws NativeIoException {
        int accepted;
        while ((accepted = LibC.accept4(fd.intValue(), 0, 0, LibC.SOCK_CLOEXEC)) < 0) {
            int errno = Errno.last();
            if (errno != Errno.EINTR) {
                throw new NativeIoException("accept4", path.toString(), errno);
            }
        }
        return new UnixSocket(FileDescriptor.adopt(accepted));
    }

    public Path path() {
        return path;
    }

    /**
     * Stops accepting: a thread blocked in {@link #accept} returns with EINVAL, as do later calls
     * (Linux wakes a listener's accept on shutdown(2); close(2) alone would leave it blocked).
     * {@link #close} still closes it and removes the file.
     */
    public void shutdown() throws NativeIoException {
        Errors.check("shutdown", path.toString(), LibC.shutdown(fd.intValue(), LibC.SHUT_RDWR));
    }

    public FileDescriptor fd() {
        return fd;
    }

    /** Stops listening and removes the socket file, unless another listener has since replaced it. */
    @Override
    public void close() throws IOException {
        fd.close();
        if (inherited()) {
            // Its file, if it has one, is its creator's to remove (systemd does when the unit stops).
            return;
        }
        try {
            Object current = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            if (Objects.equals(current, fileKey)) {
                Files.delete(path);
            }
        } catch (NoSuchFileException alreadyGone) {
            // Someone removed it already; nothing of ours is left.
        }
    }
}
