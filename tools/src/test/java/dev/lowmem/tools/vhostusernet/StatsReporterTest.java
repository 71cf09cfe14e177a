package dev.lowmem.tools.vhostusernet;

import static dev.lowmem.tools.vhostusernet.PoolFixtures.NO_POOL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import sun.misc.Signal;

class StatsReporterTest {
    private final AtomicInteger taken = new AtomicInteger();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    /** Each snapshot numbered in its negotiated field, each report one line. */
    private final StatsReporter reporter = new StatsReporter(
            () -> new StatsSnapshot(Instant.EPOCH, taken.incrementAndGet(), List.of(), 0, NO_POOL, GcStats.NONE),
            snapshot -> "report " + snapshot.devices().getFirst().negotiated() + "\n", new PrintStream(out, false, StandardCharsets.UTF_8));

    private List<String> printed() {
        synchronized (reporter) {
            return out.toString(StandardCharsets.UTF_8).lines().toList();
        }
    }

    @Test
    void aReportIsASnapshotTakenThenFormattedAndFlushed() {
        reporter.report();
        reporter.report();

        assertEquals(List.of("report 1", "report 2"), printed());
    }

    @Test
    void onATimerUntilClosed() throws InterruptedException {
        reporter.every(Duration.ofMillis(20));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (printed().size() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        reporter.close();
        int afterClose = printed().size();
        Thread.sleep(100);

        assertTrue(afterClose >= 3, "reports on the timer: " + printed());
        assertEquals(afterClose, printed().size(), "no report after close");
    }

    @Test
    void onTheSignal() throws InterruptedException {
        reporter.onSignal("USR1");
        Signal.raise(new Signal("USR1"));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (printed().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }

        assertEquals(List.of("report 1"), printed());
    }
}
