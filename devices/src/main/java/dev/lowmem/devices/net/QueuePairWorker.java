package dev.lowmem.devices.net;

import dev.lowmem.virtio.device.ActiveQueue;
import dev.lowmem.vmm.core.event.Epoll;
import dev.lowmem.vmm.core.event.EpollEvents;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.event.IdleStrategy;
import dev.lowmem.vmm.core.event.PollThenBlockIdleStrategy;
import dev.lowmem.vmm.core.event.PollWindow;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.util.concurrent.locks.LockSupport;

/**
 * The thread that runs one {@link QueuePair}: cycles while there is work, busy-polls for a short
 * window after the last of it, then sleeps in epoll on the pair's kicks, the port's fd and a
 * wake-up eventfd the control plane signals when queues come or go.
 *
 * <p>Nothing ends the thread but {@link #close()}: a queue's fault stops that queue inside
 * {@link QueuePair#doWork()}, and an error outside any queue is logged, counted and followed by
 * a short pause (so that one that repeats cannot spin a core), after which the worker goes on.
 */
final class QueuePairWorker implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(QueuePairWorker.class.getName());
    private static final long WAKEUP = -1;
    private static final long PORT = -2;
    /** After an error outside any queue: long enough not to spin on one that repeats. */
    private static final long ERROR_PAUSE_NANOS = 10_000_000;

    private final QueuePair pair;
    /** Null when the port has no fd, or once it failed and is no longer watched. */
    private FileDescriptor portFd;
    private final Epoll epoll;
    private final EventFd wakeup;
    private final EpollEvents ready;
    private final IdleStrategy idle;
    private final Thread thread;
    private int portEvents;
    private volatile boolean running = true;
    /** The last error outside a queue that was logged: one that repeats is counted, not logged again. */
    private String lastError;

    QueuePairWorker(QueuePair pair, PollWindow pollWindow, Arena arena) throws NativeIoException {
        this.pair = pair;
        this.portFd = pair.port().fd();
        this.ready = new EpollEvents(arena, 4);
        this.idle = new PollThenBlockIdleStrategy(pollWindow, this::sleep);
        epoll = Epoll.create();
        try {
            wakeup = EventFd.create();
            epoll.add(wakeup.fd(), LibC.EPOLLIN, WAKEUP);
            if (portFd != null) {
                epoll.add(portFd, 0, PORT);
            }
        } catch (NativeIoException e) {
            epoll.close();
            throw e;
        }
        thread = Thread.ofPlatform().name("vnet-pair-" + pair.index()).daemon().unstarted(this::run);
        // Inside the faulted queue's access lock, so its kick is still open; detach then skips it.
        pair.onQueueFault(queue -> epoll.remove(queue.kick().fd()));
    }

    void start() {
        thread.start();
    }

    /** Heap bytes this worker's thread has allocated since it started; -1 where the JVM does not count. */
    long allocatedBytes() {
        return ThreadAllocation.bytes(thread);
    }

    /** Control plane: watch the queue's kick and let the pair run it. */
    void attach(ActiveQueue queue) throws NativeIoException {
        epoll.add(queue.kick().fd(), LibC.EPOLLIN, queue.index());
        pair.attach(queue);
        wakeup.signal();
    }

    /**
     * Control plane, after the queue stopped: no kick of it is watched once this returns. A
     * queue that faulted had its kick taken out of the set already, by the worker; its fault is
     * final once {@link ActiveQueue#stop()} has returned.
     */
    void detach(int queueIndex) throws NativeIoException {
        ActiveQueue queue = pair.detach(queueIndex);
        if (queue != null && queue.fault() == null) {
            epoll.remove(queue.kick().fd());
        }
        wakeup.signal();
    }

    /** Control plane: the worker sends a RARP announcement out of the pair's port on its next cycle. */
    void announce(byte[] rarpFrame) throws NativeIoException {
        pair.announce(rarpFrame);
        wakeup.signal();
    }

    /** Control plane: the device was reset; the worker drops what the pair held for the driver. */
    void reset() throws NativeIoException {
        pair.reset();
        wakeup.signal();
    }

    private void run() {
        try {
            while (running) {
                try {
                    int moved = pair.doWork();
                    if (pair.takeSignalled()) {
                        giveWayToTheSignalled();
                    }
                    idle.idle(moved);
                } catch (IOException | RuntimeException | Error e) {
                    survive(e);
                }
            }
        } finally {
            pair.release();
        }
    }

    /**
     * Gives the CPU up once after signalling the driver, for the thread the signal woke: under
     * TCG (no irqfd) QEMU's main loop turns the call eventfd into the guest's interrupt, and when
     * the scheduler put it on this CPU it would otherwise wait behind the poll window that follows
     * (up to its ceiling) for preemption. With nothing else ready to run here, the yield returns
     * at once. Unpinned, a guest's round trip median 1100 -> 910 us and its iperf3 guest->host
     * 2130 -> 3060 Mbit/s (docs/PERFORMANCE.md, "Giving way after a signal").
     */
    private static void giveWayToTheSignalled() {
        Thread.yield();
    }

    private void survive(Throwable error) {
        pair.counters().increment(NetCounter.WORKER_ERRORS);
        try {
            String description = error.toString();
            if (!description.equals(lastError)) {
                lastError = description;
                LOG.log(System.Logger.Level.ERROR, "queue pair " + pair.index() + ": an error outside its queues;"
                        + " pausing 10 ms and going on (repeats of it are only counted)", error);
            }
        } catch (OutOfMemoryError noMemoryToSayIt) {
            // The counter says it; the worker must outlive the shortage.
        }
        LockSupport.parkNanos(ERROR_PAUSE_NANOS);
    }

    private void sleep() throws NativeIoException {
        if (pair.prepareToSleep()) {
            return;
        }
        watchPort(pair.portInterest());
        pair.counters().increment(NetCounter.WORKER_SLEEPS);
        int count = epoll.wait(ready, -1);
        for (int i = 0; i < count; i++) {
            long token = ready.token(i);
            if (token == WAKEUP) {
                wakeup.read();
            } else if (token == PORT) {
                portSignalled(ready.events(i));
            } else {
                pair.kicked((int) token);
            }
        }
    }

    private void watchPort(int events) throws NativeIoException {
        if (portFd != null && events != portEvents) {
            epoll.modify(portFd, events, PORT);
            portEvents = events;
        }
    }

    /** A port whose fd reports an error or hang-up would wake the worker forever: stop watching it. */
    private void portSignalled(int events) throws NativeIoException {
        if ((events & (LibC.EPOLLERR | LibC.EPOLLHUP)) != 0) {
            LOG.log(System.Logger.Level.ERROR, "queue pair " + pair.index() + ": the port's fd reports "
                    + ((events & LibC.EPOLLHUP) != 0 ? "a hang-up" : "an error") + "; no longer watching it");
            epoll.remove(portFd);
            portFd = null;
        }
    }

    @Override
    public void close() {
        running = false;
        try {
            wakeup.signal();
            if (thread.isAlive()) {
                thread.join();
            }
        } catch (NativeIoException e) {
            throw new IllegalStateException("cannot wake queue pair " + pair.index() + " to stop it", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while queue pair " + pair.index() + " stopped", e);
        }
        epoll.close();
        wakeup.close();
    }
}
