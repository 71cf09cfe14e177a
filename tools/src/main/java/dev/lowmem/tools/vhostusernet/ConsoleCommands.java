package dev.lowmem.tools.vhostusernet;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * Commands the running backend reads on standard input, or from a named pipe ({@code --commands}),
 * one a line, as testpmd reads its own:
 * {@code pool-budget SIZE} changes the packet pool's budget (a low-memory test raises it and
 * watches the backend recover), {@code stats} prints the counters. Each answer is a log line.
 * With standard input at its end (a daemon's /dev/null) there is simply nothing to read.
 */
final class ConsoleCommands {
    private static final System.Logger LOG = System.getLogger(ConsoleCommands.class.getName());
    static final String HELP = "commands: pool-budget SIZE (e.g. 64M), stats";

    private final LongSupplier budget;
    private final LongConsumer setBudget;
    private final Runnable stats;

    ConsoleCommands(LongSupplier budget, LongConsumer setBudget, Runnable stats) {
        this.budget = budget;
        this.setBudget = setBudget;
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

    /** @return what to log about it; null for a blank line */
    String execute(String line) {
        String[] words = line.strip().split("\\s+");
        switch (words[0]) {
            case "" -> {
                return null;
            }
            case "pool-budget" -> {
                if (words.length != 2) {
                    return "pool-budget takes one size, e.g. pool-budget 64M";
                }
                long bytes;
                try {
                    bytes = ByteSize.parse(words[1]);
                } catch (IllegalArgumentException e) {
                    return "pool-budget: " + e.getMessage();
                }
                long before = budget.getAsLong();
                setBudget.accept(bytes);
                return "pool budget: " + ByteSize.format(bytes) + " (was " + ByteSize.format(before) + ")";
            }
            case "stats" -> {
                stats.run();
                return null;
            }
            default -> {
                return "unknown command '" + words[0] + "'; " + HELP;
            }
        }
    }
}
