package dev.lowmem.vmm.core.nativeio;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntConsumer;

/**
 * An open file descriptor that closes exactly once, whichever thread closes it and however often.
 *
 * <p>After {@link #close()} the number is forgotten, so a use that starts later gets an
 * {@link IllegalStateException} instead of acting on whatever the kernel reused the number for.
 * A use that read the number just before another thread closed it is not protected: closing an
 * fd that another thread is using is a bug this class cannot undo.
 */
public final class FileDescriptor implements AutoCloseable {
    private static final int CLOSED = -1;
    private static final VarHandle FD;
    private static final VarHandle BEFORE_CLOSE;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            FD = lookup.findVarHandle(FileDescriptor.class, "fd", int.class);
            BEFORE_CLOSE = lookup.findVarHandle(FileDescriptor.class, "beforeClose", IntConsumer.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // accessed through FD
    private volatile int fd;
    @SuppressWarnings("unused") // accessed through BEFORE_CLOSE
    private volatile IntConsumer beforeClose;

    private FileDescriptor(int fd) {
        this.fd = fd;
    }

    /** Takes ownership of an open descriptor: closing the result closes {@code fd}. */
    public static FileDescriptor adopt(int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("not a file descriptor: " + fd);
        }
        return new FileDescriptor(fd);
    }

    /** The descriptor's number, for a libc call. */
    public int intValue() {
        int value = fd;
        if (value == CLOSED) {
            throw new IllegalStateException("file descriptor already closed");
        }
        return value;
    }

    /**
     * What the descriptor refers to, as {@code /proc/self/fd} names it: "anon_inode:[eventfd]",
     * "socket:[81234]", "pipe:[81235]", "/memfd:guest (deleted)". The kernel's own word on the
     * file's kind, for checking a descriptor a peer sent before trusting it to be one.
     */
    public String kind() throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/fd", Integer.toString(intValue()))).toString();
    }

    public boolean isOpen() {
        return fd != CLOSED;
    }

    /** Sets or clears O_NONBLOCK. */
    public void setNonBlocking(boolean nonBlocking) throws NativeIoException {
        int number = intValue();
        int flags = Errors.check("fcntl(F_GETFL)", LibC.fcntl(number, LibC.F_GETFL, 0));
        int wanted = nonBlocking ? flags | LibC.O_NONBLOCK : flags & ~LibC.O_NONBLOCK;
        if (wanted != flags) {
            Errors.check("fcntl(F_SETFL)", LibC.fcntl(number, LibC.F_SETFL, wanted));
        }
    }

    /**
     * Has {@code action} run once, on the closing thread, just before the descriptor is closed,
     * with the number that still names the file: how an event loop takes an fd out of its epoll
     * set whoever closes it. One action at a time.
     */
    public void setBeforeClose(IntConsumer action) {
        if (!BEFORE_CLOSE.compareAndSet(this, null, action)) {
            throw new IllegalStateException(this + " already has an action before close (is it registered elsewhere?)");
        }
    }

    /** Withdraws {@code action} if it is still the one set. */
    public void clearBeforeClose(IntConsumer action) {
        BEFORE_CLOSE.compareAndSet(this, action, null);
    }

    /**
     * Closes the descriptor if it is still open. Linux releases the descriptor even when close
     * reports EINTR or EIO, so only EBADF, which means someone closed our number behind our back,
     * is worth an exception.
     */
    @Override
    public void close() {
        int value = (int) FD.getAndSet(this, CLOSED);
        if (value == CLOSED) {
            return;
        }
        IntConsumer action = (IntConsumer) BEFORE_CLOSE.getAndSet(this, null);
        try {
            if (action != null) {
                action.accept(value);
            }
        } finally {
            if (LibC.close(value) < 0 && Errno.last() == Errno.EBADF) {
                throw new IllegalStateException("close " + value + ": EBADF, it was closed elsewhere");
            }
        }
    }

    @Override
    public String toString() {
        int value = fd;
        return value == CLOSED ? "fd(closed)" : "fd(" + value + ")";
    }
}
