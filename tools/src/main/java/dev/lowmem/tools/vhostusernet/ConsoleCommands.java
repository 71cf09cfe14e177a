package dev.lowmem.tools.vhostusernet;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The requests of {@link ControlCommands} as the running backend reads them on standard input, or
 * from a named pipe ({@code --commands}), one a line, as testpmd reads its own: {@code pool-budget
 * 64M} raises the pool's budget (a low-memory test raises it and watches the backend recover).
 * Each reply is a log line, but for {@code stats}, which prints the counters in {@code
 * --stats-format} on standard output, as SIGUSR1 does. With standard input at its end (a daemon's
 * /dev/null) there is simply nothing to read.
 */
final class ConsoleCommands {
    private static final System.Logger LOG = System.getLogger(ConsoleCommands.class.getName());
    private final ControlCommands commands;
    private final Runnable stats;

    ConsoleCommands(ControlCommands commands, Runnable stats) {
        this.commands = commands;
        this.stats = stats;
    }

    /** Reads {@code in} on a daemon thread until it ends. */
    void readFrom(InputStream in) {
        Thread.ofPlatform().name("console").daemon().start(() -> {
            try {
                readAll(in);
            } catch (IOException | UncheckedIOException e) {
                LOG.log(System.Logger.Level.WARNING, "standard input: " + e.getMessage() + "; no more commands");
            }
        });
    }

    /**
     * Reads the named pipe {@code fifo} on a daemon thread, for as long as the process runs: each
     * writer's lines (a script's {@code echo pool-budget 64M > FIFO}), then the next writer's.
     */
    void readFrom(Path fifo) {
        Thread.ofPlatform().name("commands").daemon().start(() -> {
            try {
                while (true) {
                    // Opening a FIFO to read waits for a writer; its end is the writer closing.
                    try (InputStream in = Files.newInputStream(fifo)) {
                        readAll(in);
                    }
                }
            } catch (IOException | UncheckedIOException e) {
                LOG.log(System.Logger.Level.WARNING, fifo + ": " + e.getMessage() + "; no more commands");
            }
        });
    }

    private void readAll(InputStream in) throws IOException {
        BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
            String answer = execute(line);
            if (answer != null) {
                LOG.log(System.Logger.Level.INFO, answer);
            }
        }
    }

    /** @return what to log about it; null for a blank line and for stats, which print themselves */
    String execute(String line) {
        String request = line.strip();
        if (request.isEmpty()) {
            return null;
        }
        if (request.equals("stats")) {
            stats.run();
            return null;
        }
        return request + ": " + commands.execute(request).json();
    }
}
