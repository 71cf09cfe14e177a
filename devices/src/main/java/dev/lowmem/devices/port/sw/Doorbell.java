package dev.lowmem.devices.port.sw;

import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The eventfd that wakes one switch port's worker (its {@link dev.lowmem.devices.port.PortQueue#fd()},
 * watched for EPOLLIN): rung by other threads when frames arrive in the port's inbox or when a
 * port it waits on has room again.
 *
 * <p>Ringing costs a syscall only when the owner is armed, that is on its way to sleep; the first
 * ring disarms it, so a burst of arrivals signals once, and a worker that is busy (or busy-polls)
 * is never signalled. The owner arms before it sleeps: that reads the eventfd empty (its epoll
 * would otherwise report it readable for good) and sets the flag, after which the owner must
 * look once more, for whatever came before the flag was visible rang nobody (the same order as
 * virtio's notification suppression, virtio 1.2, 2.7.10). The read is made even when the flag
 * is still set: a ringer that disarmed the owner may signal only after the owner armed again,
 * and a signal no arm reads would wake the owner's epoll for good.
 */
final class Doorbell implements AutoCloseable {
    private static final VarHandle ARMED;

    static {
        try {
            ARMED = MethodHandles.lookup().findVarHandle(Doorbell.class, "armed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final EventFd eventFd;
    private volatile boolean armed = true;

    Doorbell() throws NativeIoException {
        eventFd = EventFd.create();
    }

    FileDescriptor fd() {
        return eventFd.fd();
    }

    /**
     * Any thread: wakes the owner if it waits. The eventfd lives as long as the switch, so a
     * write can fail only on a broken kernel: that is thrown as an error of the switch, not of
     * the frame.
     */
    void ring() {
        if (armed && ARMED.compareAndSet(this, true, false)) {
            try {
                eventFd.signal();
            } catch (NativeIoException e) {
                throw new IllegalStateException("cannot ring a switch port's eventfd", e);
            }
        }
    }

    /** The owner is about to sleep: the next ring wakes it. The caller then looks once more before it sleeps. */
    void arm() {
        try {
            eventFd.read();
        } catch (NativeIoException e) {
            throw new IllegalStateException("cannot read a switch port's eventfd", e);
        }
        armed = true;
    }

    @Override
    public void close() {
        eventFd.close();
    }
}
