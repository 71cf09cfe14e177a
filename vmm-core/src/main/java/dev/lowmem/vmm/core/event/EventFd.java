package dev.lowmem.vmm.core.event;

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

/**
 * A non-blocking eventfd: the kick and call signals of a virtqueue, and the wake-up of a parked
 * thread. A write adds to a 64-bit counter; a read returns the counter and resets it (or, in
 * semaphore mode, returns 1 and decrements it). Neither allocates.
 */
public final class EventFd implements Signal, AutoCloseable {
    /** Each thread reads into its own eight bytes, so readers need no lock and no allocation. */
    private static final ThreadLocal<MemorySegment> READ_BUFFER =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(ValueLayout.JAVA_LONG));

    /** How {@code /proc/self/fd} names an eventfd. */
    private static final String EVENTFD_KIND = "anon_inode:[eventfd]";

    private final FileDescriptor fd;

    private EventFd(FileDescriptor fd) {
        this.fd = fd;
    }

    /** A counting eventfd starting at 0. */
    public static EventFd create() throws NativeIoException {
        return open(0);
    }

    /** A semaphore eventfd: each {@link #read()} takes 1 from the counter. */
    public static EventFd createSemaphore() throws NativeIoException {
        return open(LibC.EFD_SEMAPHORE);
    }

    /**
     * Wraps an eventfd received from a peer (a vhost-user kick or call fd) and takes ownership.
     * It is made non-blocking, so {@link #read()} never stalls a worker, whatever the peer chose.
     *
     * @throws WrongFileKindException when {@code fd} is not an eventfd (a socket or pipe end, a
     *         file): its eight-byte reads and writes would fail or block in the worker; the fd
     *         stays the caller's then
     */
    public static EventFd adopt(FileDescriptor fd) throws IOException {
        String kind = fd.kind();
        if (!EVENTFD_KIND.equals(kind)) {
            throw new WrongFileKindException("fd " + fd.intValue() + " is " + kind + ", not an eventfd");
        }
        fd.setNonBlocking(true);
        return new EventFd(fd);
    }

    private static EventFd open(int mode) throws NativeIoException {
        int flags = mode | LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC;
        return new EventFd(FileDescriptor.adopt(Errors.check("eventfd", LibC.eventfd(0, flags))));
    }

    /** Adds 1 to the counter, waking whoever waits on it. */
    @Override
    public void signal() throws NativeIoException {
        write(1);
    }

    /**
     * Adds {@code value} to the counter. A counter already at its maximum has a wake-up pending
     * that the reader has not consumed yet, so the add that would overflow it is dropped.
     */
    public void write(long value) throws NativeIoException {
        if (LibC.eventfd_write(fd.intValue(), value) < 0) {
            int errno = Errno.last();
            if (errno != Errno.EAGAIN) {
                throw new NativeIoException("eventfd_write", errno);
            }
        }
    }

    /** The counter (then reset to 0), 1 in semaphore mode, or 0 when nothing was signalled. */
    public long read() throws NativeIoException {
        MemorySegment value = READ_BUFFER.get();
        if (LibC.eventfd_read(fd.intValue(), value.address()) < 0) {
            int errno = Errno.last();
            if (errno == Errno.EAGAIN) {
                return 0;
            }
            throw new NativeIoException("eventfd_read", errno);
        }
        return value.get(ValueLayout.JAVA_LONG, 0);
    }

    public FileDescriptor fd() {
        return fd;
    }

    @Override
    public void close() {
        fd.close();
    }
}
