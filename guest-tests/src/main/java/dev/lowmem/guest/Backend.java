package dev.lowmem.guest;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Our backend as users run it: the {@code vhost-user-net} command's jar in a JVM of its own, inside
 * the host side's namespace, listening on a socket and attached to the TAP there. Its log lines
 * (standard error) go to a file and are watched for readiness and for what it negotiated; its
 * counters (one JSON line on standard output per SIGUSR1, and one at exit) are read as
 * {@link BackendStats}.
 */
public final class Backend implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STATS_TIMEOUT = Duration.ofSeconds(10);

    private final Process process;
    private final LineStream log;
    private final LineStream stats;

    private Backend(Process process, LineStream log, LineStream stats) {
        this.process = process;
        this.log = log;
        this.stats = stats;
    }

    /**
     * Starts the backend on {@code socket} and the host side's TAP and returns once it listens; its log
     * lines go to {@code logFile}. A socket file left at {@code socket} is the backend's to deal with,
     * as it is when users restart it.
     */
    public static Backend start(HostSide host, Path socket, int queuePairs, Path logFile)
            throws IOException, InterruptedException {
        return launch(host, List.of("--socket", socket.toString(), "--tap", host.tap(), "--queues",
                Integer.toString(queuePairs)), 1, logFile);
    }

    /**
     * Starts the backend with {@code --client}: it connects to the QEMU listening on {@code socket}
     * (run-guest {@code --server}), and returns once it has.
     */
    public static Backend startClient(HostSide host, Path socket, Path logFile) throws IOException, InterruptedException {
        return launch(host, List.of(), List.of("--client", "--socket", socket.toString(), "--tap", host.tap()),
                List.of("front-end connected"), logFile);
    }

    /**
     * Starts the backend on {@code socket} and TAP {@code tap} of the host side, one queue pair, with
     * {@code jvmOptions} for its JVM (system properties).
     */
    public static Backend start(HostSide host, String tap, Path socket, List<String> jvmOptions, Path logFile)
            throws IOException, InterruptedException {
        return launch(host, jvmOptions, List.of("--socket", socket.toString(), "--tap", tap), 1, logFile);
    }

    /**
     * Starts the backend as a switch: a guest port of {@code queuePairs} pairs on each of
     * {@code sockets}, and the host side's TAP as the uplink.
     */
    public static Backend startSwitch(HostSide host, List<Path> sockets, int queuePairs, Path logFile)
            throws IOException, InterruptedException {
        List<String> arguments = new ArrayList<>(List.of("--switch", "--tap", host.tap(), "--queues",
                Integer.toString(queuePairs)));
        sockets.forEach(socket -> arguments.addAll(List.of("--socket", socket.toString())));
        return launch(host, arguments, sockets.size(), logFile);
    }

    /** Starts the command with {@code arguments} and returns once it listens on its {@code sockets} sockets. */
    private static Backend launch(HostSide host, List<String> arguments, int sockets, Path logFile)
            throws IOException, InterruptedException {
        return launch(host, List.of(), arguments, sockets, logFile);
    }

    private static Backend launch(HostSide host, List<String> jvmOptions, List<String> arguments, int sockets, Path logFile)
            throws IOException, InterruptedException {
        return launch(host, jvmOptions, arguments, Collections.nCopies(sockets, "listening for a vhost-user front-end"),
                logFile);
    }

    /** Starts the command and returns once its log has had a line containing each of {@code readyLines}, in order. */
    private static Backend launch(HostSide host, List<String> jvmOptions, List<String> arguments, List<String> readyLines,
            Path logFile) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", ProjectTree.backendJar().toString()));
        command.addAll(arguments);
        command.addAll(List.of("--stats-format", "json"));
        Process process = host.start(null, command.toArray(String[]::new));
        LineStream log = LineStream.follow("the backend's log", process.getErrorStream(), logFile);
        Backend backend = new Backend(process, log, LineStream.follow("the backend's counters", process.getInputStream(),
                logFile.resolveSibling(logFile.getFileName() + ".stats")).quoting(log));
        try {
            for (String ready : readyLines) {
                backend.log.await(line -> line.contains(ready), START_TIMEOUT, "backend start");
            }
            return backend;
        } catch (IOException | RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    /** Waits for the log line saying the backend replaced a socket file that a backend now gone left. */
    public void awaitStaleSocketReplaced() throws IOException, InterruptedException {
        log.await(line -> line.contains("a socket file left by a backend that is gone"), START_TIMEOUT,
                "the backend replacing the stale socket file");
    }

    /** Waits for the next "negotiated:" log line (one per driver start) and returns the features it names. */
    public String awaitNegotiated(Duration timeout) throws IOException, InterruptedException {
        String line = log.await(text -> text.contains("negotiated: "), timeout, "the backend's feature negotiation");
        return line.substring(line.indexOf("negotiated: ") + "negotiated: ".length());
    }

    /** The counters now (SIGUSR1 asks for a line). */
    public BackendStats stats() throws IOException, InterruptedException {
        Processes.signal(process, "USR1");
        return BackendStats.parse(stats.await(BackendStats::isStatsLine, STATS_TIMEOUT, "the backend's counters"));
    }

    /** Stops the backend as an operator would (SIGTERM) and returns its final counters. */
    public BackendStats stop() throws IOException, InterruptedException {
        if (!process.isAlive()) {
            throw new IOException("the backend had exited (status " + process.exitValue() + ") before it was stopped");
        }
        // kill -TERM, not Process.destroy(), which closes our end of its output at once.
        Processes.signal(process, "TERM");
        BackendStats last = BackendStats.parse(stats.await(BackendStats::isStatsLine, STATS_TIMEOUT, "the backend's final counters"));
        Processes.stop(process);
        return last;
    }

    /** Whether the backend's process still runs. */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** Kills the backend at once (SIGKILL), as a crash would. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        Processes.stop(process);
    }
}
