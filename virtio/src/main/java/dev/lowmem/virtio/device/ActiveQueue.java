package dev.lowmem.virtio.device;

import dev.lowmem.virtio.queue.DeviceQueue;
import dev.lowmem.virtio.queue.InvalidQueueException;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.event.Signal;
import dev.lowmem.vmm.core.memory.DirtyLog;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A running virtqueue as a device worker sees it: its rings, the kick the driver signals and the
 * call the device signals, behind the queue's access lock (docs/ARCHITECTURE.md, "Threads and locks").
 *
 * <p>The worker brackets each burst with {@link #tryEnter()} and {@link #exit()}: inside, the
 * rings and the call stay put. The control plane replaces rings (a new memory table) or the call
 * eventfd, or stops the queue, holding the lock only for the swap; the worker that found it held
 * backs off, and the control plane signals the kick after a swap so that the burst it skipped
 * is not lost.
 * Whatever was replaced is released by the control plane after the swap, outside the lock: no
 * worker can be using it then.
 *
 * <p>A fault the worker cannot recover from while serving the queue (guest memory that vanished
 * under it, an error of any kind) stops the queue for good: {@link #fault(Throwable)} records it
 * and signals the err eventfd, and the transport reports DEVICE_NEEDS_RESET. The worker goes on
 * with its other queues (docs/ARCHITECTURE.md, "Faults in the datapath").
 */
public final class ActiveQueue {
    /** What the device signals the driver with: used buffers, and a fault of the queue. */
    public enum Notifier {
        CALL, ERR
    }

    private final int index;
    private final EventFd kick;
    private final ReentrantLock access = new ReentrantLock();
    private DeviceQueue rings;
    /**
     * The call and err signals, by {@link Notifier#ordinal()}: vhost-user's eventfds, or an
     * embedding transport's interrupt; null where the driver wants no signal.
     */
    private final Signal[] notifiers = new Signal[Notifier.values().length];
    private boolean stopped;
    private volatile Throwable fault;

    /**
     * @param call null when the driver polls for used buffers and wants no interrupt
     * @param err  null when the driver wants no error signal
     */
    public ActiveQueue(int index, DeviceQueue rings, EventFd kick, Signal call, Signal err) {
        this.index = index;
        this.rings = rings;
        this.kick = kick;
        notifiers[Notifier.CALL.ordinal()] = call;
        notifiers[Notifier.ERR.ordinal()] = err;
    }

    public int index() {
        return index;
    }

    /** The driver's kick, for the worker's epoll set; fixed for the life of this object. */
    public EventFd kick() {
        return kick;
    }

    // ---- worker side ----

    /**
     * Takes the access lock for a burst unless the control plane holds it or the queue has
     * stopped or faulted. On true, {@link #exit()} must follow.
     */
    public boolean tryEnter() {
        if (!access.tryLock()) {
            return false;
        }
        if (stopped || fault != null) {
            access.unlock();
            return false;
        }
        return true;
    }

    /** The rings; only between {@link #tryEnter()} and {@link #exit()}. */
    public DeviceQueue rings() {
        return rings;
    }

    /**
     * Consumes pending kicks; only between {@link #tryEnter()} and {@link #exit()}.
     *
     * @return the kicks since the last drain (the eventfd adds them up), 0 when none
     */
    public long drainKick() throws NativeIoException {
        return kick.read();
    }

    /**
     * Signals the driver that used buffers wait, unless it polls; only between
     * {@link #tryEnter()} and {@link #exit()}, so the eventfd cannot be closed under the write.
     */
    public void interruptDriver() throws NativeIoException {
        Signal call = notifiers[Notifier.CALL.ordinal()];
        if (call != null) {
            call.signal();
        }
    }

    /**
     * Stops the queue for good after a fault while serving it, and signals the driver's err
     * eventfd; only between {@link #tryEnter()} and {@link #exit()}, so the eventfd cannot be
     * closed under the write. No burst of this queue starts again.
     */
    public void fault(Throwable cause) {
        fault = cause;
        Signal err = notifiers[Notifier.ERR.ordinal()];
        if (err != null) {
            try {
                err.signal();
            } catch (NativeIoException e) {
                // The transport's status still says DEVICE_NEEDS_RESET; there is no one else to tell.
                cause.addSuppressed(e);
            }
        }
    }

    /** What stopped the queue for good, or null while it has not faulted; any thread. */
    public Throwable fault() {
        return fault;
    }

    public void exit() {
        access.unlock();
    }

    // ---- control-plane side ----

    /** Opens a queue's rings anew at a given position. */
    @FunctionalInterface
    public interface Reopening {
        DeviceQueue reopen(int ringBase) throws InvalidQueueException;
    }

    /**
     * Replaces the rings with ones opened at the position the current ones reached (the memory
     * table changed under them), then wakes the worker. The position is read and the rings
     * swapped in one hold of the lock, so no chain is lost or popped twice in between.
     *
     * @throws InvalidQueueException when the rings cannot be opened anew; the queue keeps its
     *         old ones, for the caller to {@link #stop()} while they are still mapped
     */
    public void reopenRings(Reopening reopening) throws InvalidQueueException, NativeIoException {
        access.lock();
        try {
            rings = reopening.reopen(rings.ringBase());
        } finally {
            access.unlock();
        }
        kick.signal();
    }

    /**
     * Starts, changes or (with a null log) stops the logging of what the rings write into guest
     * memory ({@link DeviceQueue#setWriteLog}). Once this returns no burst marks a log it replaced,
     * which the caller may then unmap.
     */
    public void setWriteLog(DirtyLog log, long deviceAreaLogAddr) {
        access.lock();
        try {
            rings.setWriteLog(log, deviceAreaLogAddr);
        } finally {
            access.unlock();
        }
    }

    /**
     * Replaces the call or the err signal; once this returns no burst uses the one replaced, which
     * the caller may then close.
     */
    public void replace(Notifier which, Signal next) throws NativeIoException {
        access.lock();
        try {
            notifiers[which.ordinal()] = next;
        } finally {
            access.unlock();
        }
        kick.signal();
    }

    /**
     * Stops the queue: no burst starts after this returns, and none is running.
     *
     * @return the position to resume from, as {@link DeviceQueue#ringBase()} gives it
     */
    public int stop() {
        access.lock();
        try {
            stopped = true;
            return rings.ringBase();
        } finally {
            access.unlock();
        }
    }
}
