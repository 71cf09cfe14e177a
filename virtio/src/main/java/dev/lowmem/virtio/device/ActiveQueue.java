package dev.lowmem.virtio.device;

import dev.lowmem.virtio.queue.DeviceQueue;
import dev.lowmem.virtio.queue.InvalidQueueException;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A running virtqueue as a device worker sees it: its rings, the kick the driver signals and the
 * call the device signals, behind the queue's access lock (DESIGN.md, "the bottom-half lock").
 *
 * <p>The worker brackets each burst with {@link #tryEnter()} and {@link #exit()}: inside, the
 * rings and the call stay put. The control plane replaces rings (a new memory table) or the call
 * eventfd, or stops the queue, holding the lock only for the swap; the worker that found it held
 * backs off, and the control plane signals the kick after a swap so that the burst it skipped
 * is not lost.
 * Whatever was replaced is released by the control plane after the swap, outside the lock: no
 * worker can be using it then.
 */
public final class ActiveQueue {
    private final int index;
    private final EventFd kick;
    private final ReentrantLock access = new ReentrantLock();
    private DeviceQueue rings;
    private EventFd call;
    private boolean stopped;

    /**
     * @param call null when the driver polls for used buffers and wants no interrupt
     */
    public ActiveQueue(int index, DeviceQueue rings, EventFd kick, EventFd call) {
        this.index = index;
        this.rings = rings;
        this.kick = kick;
        this.call = call;
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
     * stopped. On true, {@link #exit()} must follow.
     */
    public boolean tryEnter() {
        if (!access.tryLock()) {
            return false;
        }
        if (stopped) {
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
        if (call != null) {
            call.signal();
        }
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
     * Replaces the call eventfd.
     *
     * @return the one replaced, for the caller to close
     */
    public EventFd replaceCall(EventFd next) throws NativeIoException {
        EventFd previous;
        access.lock();
        try {
            previous = call;
            call = next;
        } finally {
            access.unlock();
        }
        kick.signal();
        return previous;
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
