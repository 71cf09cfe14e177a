package dev.lowmem.tools.vhostusernet;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import sun.misc.Signal;

/**
 * Prints the counters: on a timer, on a signal, and when asked (at exit). Reports from these
 * sources may come at once; each is printed whole, one after the other.
 */
final class StatsReporter implements AutoCloseable {
    private final Supplier<StatsSnapshot> snapshots;
    private final StatsFormatter formatter;
    private final PrintStream out;
    private ScheduledExecutorService timer;

    StatsReporter(Supplier<StatsSnapshot> snapshots, StatsFormatter formatter, PrintStream out) {
        this.snapshots = snapshots;
        this.formatter = formatter;
        this.out = out;
    }

    /** Prints a snapshot taken now. */
    synchronized void report() {
        out.print(formatter.format(snapshots.get()));
        out.flush();
    }

    /** Reports every {@code interval} from one interval on, until {@link #close()}. */
    synchronized void every(Duration interval) {
        if (timer != null) {
            throw new IllegalStateException("already reporting on a timer");
        }
        timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("stats").daemon().factory());
        long millis = interval.toMillis();
        timer.scheduleAtFixedRate(this::report, millis, millis, TimeUnit.MILLISECONDS);
    }

    /**
     * Reports whenever the process gets the signal {@code name} ("USR1"). sun.misc.Signal (in the
     * jdk.unsupported module, open to class-path code) is the JDK's only way to catch a signal;
     * HotSpot on Linux leaves SIGUSR1 to the application.
     */
    void onSignal(String name) {
        Signal.handle(new Signal(name), signal -> report());
    }

    /** Stops the timer; a report under way finishes first. */
    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdown();
        }
    }
}
