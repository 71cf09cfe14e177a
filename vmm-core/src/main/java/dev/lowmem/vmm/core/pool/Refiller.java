package dev.lowmem.vmm.core.pool;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The thread that grows the pool off the datapath. It sleeps until woken (a take left the
 * shared free list under its reserve target or found it empty, the budget changed) and then runs
 * refill rounds until one does nothing; it never wakes on a timer, so an idle pool costs no CPU.
 */
final class Refiller {
    static final String THREAD_NAME = "vnet-pool-refill";
    private static final System.Logger LOG = System.getLogger(Refiller.class.getName());

    private final BooleanSupplier round;
    /** Set by a wake, cleared by the thread before it runs rounds, so a wake during a round is kept. */
    private final AtomicBoolean wanted = new AtomicBoolean();
    private volatile Thread thread;
    private volatile boolean running;

    /** @param round one refill round; true when it did something, so another may be worth running */
    Refiller(BooleanSupplier round) {
        this.round = round;
    }

    synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException(THREAD_NAME + " is already started");
        }
        running = true;
        thread = Thread.ofPlatform().name(THREAD_NAME).daemon().start(this::run);
    }

    /** Any thread, never blocks; several wakes before the thread runs make one. Before start, remembered. */
    void wake() {
        if (!wanted.getAndSet(true)) {
            Thread sleeper = thread;
            if (sleeper != null) {
                LockSupport.unpark(sleeper);
            }
        }
    }

    boolean wanted() {
        return wanted.get();
    }

    /** Stops the thread, if started, and waits for it. */
    synchronized void stop() {
        Thread sleeper = thread;
        if (sleeper == null) {
            return;
        }
        running = false;
        LockSupport.unpark(sleeper);
        boolean interrupted = false;
        while (sleeper.isAlive()) {
            try {
                sleeper.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        while (running) {
            if (!wanted.getAndSet(false)) {
                LockSupport.park(this);
                continue;
            }
            try {
                while (running && round.getAsBoolean()) {
                    // Each round is capped; keep going while rounds still find work.
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "packet pool refill round failed", e);
            }
        }
    }
}
