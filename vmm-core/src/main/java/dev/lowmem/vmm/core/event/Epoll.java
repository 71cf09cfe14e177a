package dev.lowmem.vmm.core.event;

import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.Errors;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An epoll instance. Each watched fd carries a caller-chosen 64-bit token that comes back in
 * {@link EpollEvents#token(int)}. Nothing here allocates once a thread has used it: a worker
 * changes what it watches (back-pressure on a port) each time it goes to sleep.
 */
public final class Epoll implements AutoCloseable {
    /**
     * The epoll_event that epoll_ctl reads, one per thread: the control plane adds and removes fds
     * while a worker modifies its port's on the same instance.
     */
    private static final ThreadLocal<MemorySegment> CONTROL_EVENT =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(EpollEvents.SIZE, Long.BYTES));

    private final FileDescriptor fd;

    private Epoll(FileDescriptor fd) {
        this.fd = fd;
    }

    public static Epoll create() throws NativeIoException {
        return new Epoll(FileDescriptor.adopt(Errors.check("epoll_create1", LibC.epoll_create1(LibC.EPOLL_CLOEXEC))));
    }

    /** Watches {@code target} for {@code events} (EPOLLIN, EPOLLOUT, EPOLLET, ...). */
    public void add(FileDescriptor target, int events, long token) throws NativeIoException {
        control(LibC.EPOLL_CTL_ADD, "epoll_ctl(ADD)", target, events, token);
    }

    /** Changes what {@code target} is watched for: how back-pressure turns a port's fd off and on. */
    public void modify(FileDescriptor target, int events, long token) throws NativeIoException {
        control(LibC.EPOLL_CTL_MOD, "epoll_ctl(MOD)", target, events, token);
    }

    public void remove(FileDescriptor target) throws NativeIoException {
        control(LibC.EPOLL_CTL_DEL, "epoll_ctl(DEL)", target, 0, 0);
    }

    /**
     * Removes the fd numbered {@code target} from the set, ignoring failure: called as that fd
     * closes, perhaps on another thread, perhaps after this epoll has closed.
     */
    void removeQuietly(int target) {
        try {
            LibC.epoll_ctl(fd.intValue(), LibC.EPOLL_CTL_DEL, target, 0);
        } catch (IllegalStateException epollClosed) {
            // Closing the epoll fd emptied the set already.
        }
    }

    private void control(int operation, String call, FileDescriptor target, int events, long token) throws NativeIoException {
        MemorySegment event = CONTROL_EVENT.get();
        event.set(ValueLayout.JAVA_INT_UNALIGNED, EpollEvents.EVENTS_OFFSET, events);
        event.set(ValueLayout.JAVA_LONG_UNALIGNED, EpollEvents.DATA_OFFSET, token);
        if (LibC.epoll_ctl(fd.intValue(), operation, target.intValue(), event.address()) < 0) {
            throw new NativeIoException(call, target.toString(), Errno.last());
        }
    }

    /**
     * Waits up to {@code timeoutMillis} (-1: without limit, 0: not at all) for ready fds and
     * returns how many entries of {@code ready} it filled; 0 on timeout or when a signal
     * interrupted the wait.
     */
    public int wait(EpollEvents ready, int timeoutMillis) throws NativeIoException {
        int count = LibC.epoll_wait(fd.intValue(), ready.address(), ready.capacity(), timeoutMillis);
        if (count < 0) {
            int errno = Errno.last();
            if (errno == Errno.EINTR) {
                return 0;
            }
            throw new NativeIoException("epoll_wait", errno);
        }
        return count;
    }

    @Override
    public void close() {
        fd.close();
    }
}
