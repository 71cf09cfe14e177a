package dev.lowmem.vmm.core.socket;

import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.Errors;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.nativeio.WrongFileKindException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A connected UNIX stream socket that carries file descriptors (SCM_RIGHTS) with its bytes, as
 * vhost-user needs. This is control-plane code: it allocates per call and is meant for one
 * thread at a time.
 */
public final class UnixSocket implements AutoCloseable {
    /** The kernel's limit on descriptors in one message (SCM_MAX_FD). */
    public static final int MAX_FDS_PER_MESSAGE = 253;

    /** How /proc/self/fd names a socket ({@link FileDescriptor#kind()}): "socket:[81234]". */
    private static final String SOCKET_KIND = "socket:";

    private final FileDescriptor fd;

    UnixSocket(FileDescriptor fd) {
        this.fd = fd;
    }

    /** Connects to a listening socket at {@code path}. */
    public static UnixSocket connect(Path path) throws NativeIoException {
        return connect(path, 0);
    }

    /**
     * Connects with extra socket flags. With SOCK_NONBLOCK a listener whose backlog is full
     * answers EAGAIN at once instead of making the caller wait.
     */
    static UnixSocket connect(Path path, int socketFlags) throws NativeIoException {
        FileDescriptor fd = FileDescriptor.adopt(Errors.check("socket",
                LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC | socketFlags, 0)));
        try (Arena arena = Arena.ofConfined()) {
            SocketAddress address = SocketAddress.of(path, arena);
            while (LibC.connect(fd.intValue(), address.address(), address.length()) < 0) {
                int errno = Errno.last();
                if (errno != Errno.EINTR) {
                    throw new NativeIoException("connect", path.toString(), errno);
                }
            }
            return new UnixSocket(fd);
        } catch (RuntimeException | NativeIoException e) {
            fd.close();
            throw e;
        }
    }

    /**
     * A connected socket a peer sent (vhost-user's SET_BACKEND_REQ_FD), checked to be a socket
     * first: anything else would fail at its first send, far from the request that brought it.
     *
     * @throws WrongFileKindException when {@code fd} is not a socket; the caller still owns it then
     */
    public static UnixSocket adopt(FileDescriptor fd) throws IOException {
        String kind = fd.kind();
        if (!kind.startsWith(SOCKET_KIND)) {
            throw new WrongFileKindException("fd " + fd.intValue() + " is " + kind + ", not a socket");
        }
        return new UnixSocket(fd);
    }

    /** Two sockets connected to each other ({@code socketpair}). */
    public static UnixSocket[] pair() throws NativeIoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
            Errors.check("socketpair", LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0,
                    fds.address()));
            return new UnixSocket[] {
                new UnixSocket(FileDescriptor.adopt(fds.getAtIndex(ValueLayout.JAVA_INT, 0))),
                new UnixSocket(FileDescriptor.adopt(fds.getAtIndex(ValueLayout.JAVA_INT, 1)))
            };
        }
    }

    /**
     * Sends all of {@code data} (native memory), with {@code fds} riding on its first byte. The
     * descriptors stay owned by the caller; the peer receives duplicates.
     */
    public void send(MemorySegment data, FileDescriptor... fds) throws NativeIoException {
        if (fds.length > MAX_FDS_PER_MESSAGE) {
            throw new IllegalArgumentException(fds.length + " descriptors in one message; the kernel takes at most "
                    + MAX_FDS_PER_MESSAGE);
        }
        if (fds.length > 0 && data.byteSize() == 0) {
            // A stream socket sends nothing for 0 bytes, and the descriptors would vanish with it.
            throw new IllegalArgumentException("descriptors need at least one byte of data to ride on");
        }
        int[] numbers = new int[fds.length];
        for (int i = 0; i < fds.length; i++) {
            numbers[i] = fds[i].intValue();
        }
        try (Arena arena = Arena.ofConfined()) {
            MessageHeader header = new MessageHeader(arena, numbers.length);
            header.setRights(numbers);
            MemorySegment rest = data;
            do {
                header.setData(rest);
                long sent = LibC.sendmsg(fd.intValue(), header.address(), LibC.MSG_NOSIGNAL);
                if (sent < 0) {
                    int errno = Errno.last();
                    if (errno == Errno.EINTR) {
                        continue;
                    }
                    throw new NativeIoException("sendmsg", errno);
                }
                // The descriptors went with the first byte; the rest of a short write goes alone.
                header.setRights(new int[0]);
                rest = rest.asSlice(sent);
            } while (rest.byteSize() > 0);
        }
    }

    /**
     * One {@code recvmsg} into {@code buffer} (native memory), taking at most {@code maxFds}
     * descriptors. A short read is possible, as on any stream; descriptors beyond {@code maxFds}
     * are never installed in this process and are reported in {@link Received#fdsDiscarded()}.
     */
    public Received receive(MemorySegment buffer, int maxFds) throws NativeIoException {
        if (maxFds < 0 || maxFds > MAX_FDS_PER_MESSAGE) {
            throw new IllegalArgumentException("maxFds " + maxFds + " is outside 0.." + MAX_FDS_PER_MESSAGE);
        }
        try (Arena arena = Arena.ofConfined()) {
            MessageHeader header = new MessageHeader(arena, maxFds);
            header.setData(buffer);
            long received;
            while ((received = LibC.recvmsg(fd.intValue(), header.address(), LibC.MSG_CMSG_CLOEXEC)) < 0) {
                int errno = Errno.last();
                if (errno != Errno.EINTR) {
                    throw new NativeIoException("recvmsg", errno);
                }
            }
            List<FileDescriptor> fds = new ArrayList<>();
            boolean discarded = collectRights(header.receivedControl(), maxFds, fds);
            return new Received(received, fds, discarded || (header.flags() & LibC.MSG_CTRUNC) != 0);
        }
    }

    /**
     * Adopts the descriptors of every SCM_RIGHTS message in {@code control}, up to {@code maxFds};
     * closes any beyond that. Returns whether any were closed.
     */
    private static boolean collectRights(MemorySegment control, int maxFds, List<FileDescriptor> fds) {
        boolean discarded = false;
        long offset = 0;
        while (offset + MessageHeader.CMSG_DATA_OFFSET <= control.byteSize()) {
            long length = control.get(ValueLayout.JAVA_LONG, offset + MessageHeader.CMSG_LEN_OFFSET);
            if (length < MessageHeader.CMSG_DATA_OFFSET || offset + length > control.byteSize()) {
                break;
            }
            int level = control.get(ValueLayout.JAVA_INT, offset + MessageHeader.CMSG_LEVEL_OFFSET);
            int type = control.get(ValueLayout.JAVA_INT, offset + MessageHeader.CMSG_TYPE_OFFSET);
            if (level == LibC.SOL_SOCKET && type == LibC.SCM_RIGHTS) {
                long count = (length - MessageHeader.CMSG_DATA_OFFSET) / Integer.BYTES;
                for (long i = 0; i < count; i++) {
                    FileDescriptor received = FileDescriptor.adopt(control.get(ValueLayout.JAVA_INT,
                            offset + MessageHeader.CMSG_DATA_OFFSET + i * Integer.BYTES));
                    if (fds.size() < maxFds) {
                        fds.add(received);
                    } else {
                        received.close();
                        discarded = true;
                    }
                }
            }
            offset += (length + 7) & ~7L;
        }
        return discarded;
    }

    public FileDescriptor fd() {
        return fd;
    }

    /** Shuts both directions down, waking a thread blocked in {@link #receive} with end of stream. */
    public void shutdown() throws NativeIoException {
        Errors.check("shutdown", LibC.shutdown(fd.intValue(), LibC.SHUT_RDWR));
    }

    @Override
    public void close() {
        fd.close();
    }
}
