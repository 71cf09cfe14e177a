package dev.lowmem.guest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The lines a child process prints, read as they come by a thread of their own: each is appended to
 * a log file and queued for a reader that waits for the one it needs, with a time limit. Carriage
 * returns (a serial console sends CR LF) are dropped.
 */
final class LineStream {
    private static final String END = new String("<end of stream>");
    private static final int RECENT_LINES = 30;

    private final String source;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final ArrayDeque<String> recent = new ArrayDeque<>(RECENT_LINES);
    private boolean ended;
    private LineStream companion;

    private LineStream(String source) {
        this.source = source;
    }

    /** Starts reading {@code stream}, appending each line to {@code log} (none when null: the process keeps its own). */
    static LineStream follow(String source, InputStream stream, Path log) throws IOException {
        LineStream follower = new LineStream(source);
        Writer writer = Writer.nullWriter();
        if (log != null) {
            Files.createDirectories(log.toAbsolutePath().getParent());
            writer = Files.newBufferedWriter(log, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
        }
        Writer sink = writer;
        Thread.ofPlatform().daemon().name(source + "-lines").start(() -> follower.pump(stream, sink));
        return follower;
    }

    private void pump(InputStream stream, Writer log) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8)); log) {
            for (String line; (line = reader.readLine()) != null; ) {
                line = line.replace("\r", "");
                log.write(line);
                log.write('\n');
                log.flush();
                remember(line);
                lines.add(line);
            }
        } catch (IOException e) {
            // The process went and took the pipe with it: the same as the end of its output.
        } finally {
            lines.add(END);
        }
    }

    /**
     * Waits for the next line that {@code wanted} accepts and returns it, passing each line before it
     * to {@code passed}; fails naming {@code what} when the time is up or the output ends first.
     */
    String await(Predicate<String> wanted, Duration timeout, String what, List<String> passed)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!ended) {
            String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw failure(what + ": nothing after " + timeout.toSeconds() + " s");
            }
            if (line == END) {
                ended = true;
                break;
            }
            if (wanted.test(line)) {
                return line;
            }
            passed.add(line);
        }
        throw failure(what + ": " + source + " ended first");
    }

    String await(Predicate<String> wanted, Duration timeout, String what) throws IOException, InterruptedException {
        return await(wanted, timeout, what, new ArrayList<>());
    }

    private synchronized void remember(String line) {
        if (recent.size() == RECENT_LINES) {
            recent.removeFirst();
        }
        recent.addLast(line);
    }

    /** The last lines read (whether or not a reader took them yet), for a failure's message. */
    synchronized String recent() {
        return "the last lines of " + source + ":\n  " + String.join("\n  ", recent);
    }

    /**
     * Names another stream of the same process (its standard error, say) whose last lines a failure
     * here quotes as well: they often say why this one stopped.
     */
    LineStream quoting(LineStream other) {
        companion = other;
        return this;
    }

    private IOException failure(String message) {
        return new IOException(message + "; " + recent() + (companion == null ? "" : "\n" + companion.recent()));
    }
}
