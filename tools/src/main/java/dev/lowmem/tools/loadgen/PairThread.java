package dev.lowmem.tools.loadgen;

import dev.lowmem.vmm.core.event.Epoll;
import dev.lowmem.vmm.core.event.EpollEvents;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.event.IdleStrategy;
import dev.lowmem.vmm.core.event.PollThenBlockIdleStrategy;
import dev.lowmem.vmm.core.event.PollWindow;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * The thread that runs one {@link PairGenerator}: rounds back to back while they move frames,
 * busy-polling for a while when they do not, then asleep on the pair's call eventfds with
 * interrupts on, so that a backend that stops serving does not cost a spinning core. When
 * stopped it posts no more frames and takes back what the backend still returns (for up to
 * {@link #DRAIN_NANOS}, until nothing has come for {@link #QUIET_NANOS}), so the counts can be
 * set beside the backend's.
 */
final class PairThread implements AutoCloseable {
    /** Long enough that a backend which is merely slower than us is never waited for by sleeping. */
    static final Duration POLL_WINDOW = Duration.ofMillis(1);
    /** How long a stopped pair waits for its TX frames in flight to come back. */
    static final long DRAIN_NANOS = Duration.ofSeconds(1).toNanos();
    /** How long nothing must come back before a stopped pair counts its rings as drained. */
    static final long QUIET_NANOS = Duration.ofMillis(20).toNanos();
    /** The longest sleep, so that a lost wake-up costs at most this much. */
    static final int SLEEP_LIMIT_MILLIS = 100;
    private static final long WAKE = 2;

    private final PairGenerator generator;
    private final Arena arena = Arena.ofShared();
    private final Epoll epoll;
    private final EpollEvents ready;
    private final EventFd wake;
    private volatile boolean stopping;
    private volatile Throwable failure;
    private Thread thread;

    PairThread(PairGenerator generator) throws NativeIoException {
        this.generator = generator;
        epoll = Epoll.create();
        try {
            wake = EventFd.create();
            epoll.add(wake.fd(), LibC.EPOLLIN, WAKE);
            if (generator.receives()) {
                epoll.add(generator.rxQueue().call().fd(), LibC.EPOLLIN, 0);
            }
            if (generator.transmits()) {
                epoll.add(generator.txQueue().call().fd(), LibC.EPOLLIN, 1);
            }
        } catch (NativeIoException | RuntimeException e) {
            close();
            throw e;
        }
        ready = new EpollEvents(arena, 3);
    }

    void start() {
        thread = Thread.ofPlatform().name("loadgen-pair-" + generator.pair()).start(this::run);
    }

    private void run() {
        try {
            IdleStrategy idle = new PollThenBlockIdleStrategy(PollWindow.fixed(POLL_WINDOW), this::block);
            while (!stopping) {
                idle.idle(generator.doWork());
            }
            drain();
        } catch (IOException | RuntimeException | Error e) {
            failure = e;
        }
    }

    /** Interrupts on, one more look, then sleep until the backend calls or {@link #stopQuietly()} wakes us. */
    private void block() throws NativeIoException {
        if (generator.armInterrupts() || stopping) {
            generator.disarmInterrupts(false);
            return;
        }
        epoll.wait(ready, SLEEP_LIMIT_MILLIS);
        // The wake eventfd is left readable: once stopping, no wait blocks again.
        if (generator.receives()) {
            generator.rxQueue().call().read();
        }
        if (generator.transmits()) {
            generator.txQueue().call().read();
        }
        generator.disarmInterrupts(true);
    }

    private void drain() throws NativeIoException {
        long start = System.nanoTime();
        long lastWork = start;
        while (true) {
            long now = System.nanoTime();
            if (generator.windDown() > 0) {
                lastWork = now;
            } else if (generator.txInFlight() == 0 && now - lastWork > QUIET_NANOS || now - start > DRAIN_NANOS) {
                return;
            } else {
                LockSupport.parkNanos(50_000);
            }
        }
    }

    /**
     * Tells the thread to stop posting, drain and end. Should the wake-up fail, the thread still
     * sees the flag within {@link #SLEEP_LIMIT_MILLIS}.
     */
    void stopQuietly() {
        stopping = true;
        try {
            wake.signal();
        } catch (NativeIoException e) {
            // The bounded sleep covers it.
        }
    }

    boolean failed() {
        return failure != null;
    }

    /**
     * Waits for the thread to end.
     *
     * @throws LoadgenException when the datapath failed
     */
    void join() throws InterruptedException, LoadgenException {
        thread.join();
        Throwable failed = failure;
        if (failed != null) {
            throw new LoadgenException("queue pair " + generator.pair() + " failed: " + failed, failed);
        }
    }

    PairGenerator generator() {
        return generator;
    }

    @Override
    public void close() {
        epoll.close();
        if (wake != null) {
            wake.close();
        }
        arena.close();
    }
}
