package dev.lowmem.vmm.core.nativeio;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * An open file descriptor that closes exactly once, whichever thread closes it and however often.
 *
 * <p>After {@link #close()} the number is forgotten, so a late user gets an
 * {@link IllegalStateException} instead of acting on whatever the kernel reused the number for.
 */
public final class FileDescriptor implements AutoCloseable {
    private static final int CLOSED = -1;
    private static final VarHandle FD;

    static {
        try {
            FD = MethodHandles.lookup().findVarHandle(FileDescriptor.class, "fd", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // accessed through FD
    private volatile int fd;

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
     * Closes the descriptor if it is still open. Linux releases the descriptor even when close
     * reports EINTR or EIO, so only EBADF, which means someone closed our number behind our back,
     * is worth an exception.
     */
    @Override
    public void close() {
        int value = (int) FD.getAndSet(this, CLOSED);
        if (value != CLOSED && LibC.close(value) < 0) {
            int errno = Errno.last();
            if (errno == Errno.EBADF) {
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
