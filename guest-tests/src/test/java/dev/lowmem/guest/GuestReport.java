package dev.lowmem.guest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;

/**
 * The figures the guest tests measure (throughput, retransmits, round trips, counters), which are
 * reported and never asserted: one line each in {@code guest-report.txt} beside the guests' logs
 * (.ci/run prints it), and on standard output.
 */
final class GuestReport {
    private static final Path FILE = GuestLogs.root().resolve("guest-report.txt");
    private static boolean written;

    private GuestReport() {
    }

    /** Records one line; the first of a test run replaces the last run's report. */
    static synchronized void record(Class<?> test, String what, String figures) {
        String line = String.format("%s %-22s %-52s %s%n", LocalTime.now().truncatedTo(ChronoUnit.SECONDS),
                test.getSimpleName(), what, figures);
        System.out.print(line);
        try {
            Files.createDirectories(FILE.getParent());
            Files.writeString(FILE, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    written ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
            written = true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
