package dev.lowmem.tools.vhostusernet;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The command run as users run it, in a JVM of its own on the test's class path, so that exit
 * statuses, signals and both output streams are real. Its lines are collected as they come.
 */
final class CommandProcess implements AutoCloseable {
    static final Duration TIMEOUT = Duration.ofSeconds(20);

    private final Process process;
    private final List<String> stdout = new ArrayList<>();
    private final List<String> stderr = new ArrayList<>();
    private final Thread stdoutReader;
    private final Thread stderrReader;

    private CommandProcess(Process process) {
        this.process = process;
        stdoutReader = collect(process.getInputStream(), stdout, "stdout");
        stderrReader = collect(process.getErrorStream(), stderr, "stderr");
    }

    static CommandProcess start(String... args) throws IOException {
        return startUnder(List.of(), args);
    }

    /**
     * The command run by {@code launcher}, a program that execs the rest of its command line
     * (systemd-socket-activate, env), so that the command has the launcher's pid and descriptors.
     */
    static CommandProcess startUnder(List<String> launcher, String... args) throws IOException {
        List<String> command = new ArrayList<>(launcher);
        command.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                // Surefire sets java.class.path to the test class path, the main classes and their dependencies.
                "-cp", System.getProperty("java.class.path"),
                VhostUserNet.class.getName()));
        command.addAll(List.of(args));
        return new CommandProcess(new ProcessBuilder(command).start());
    }

    private Thread collect(InputStream stream, List<String> lines, String name) {
        return Thread.ofPlatform().daemon().name("command " + name).start(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line; (line = reader.readLine()) != null; ) {
                    synchronized (this) {
                        lines.add(line);
                        notifyAll();
                    }
                }
            } catch (IOException closedByClose) {
                // Process.destroy closes the streams: the test is over with the process.
            }
        });
    }

    long pid() {
        return process.pid();
    }

    /** The first standard-output line from {@code from} on that matches. */
    String awaitStdout(int from, Predicate<String> matching, String what) throws InterruptedException {
        return await(stdout, from, matching, what);
    }

    /** The first standard-error line from {@code from} on that matches. */
    String awaitStderr(int from, Predicate<String> matching, String what) throws InterruptedException {
        return await(stderr, from, matching, what);
    }

    String awaitStderr(Predicate<String> matching, String what) throws InterruptedException {
        return awaitStderr(0, matching, what);
    }

    private synchronized String await(List<String> lines, int from, Predicate<String> matching, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        int next = from;
        while (true) {
            for (; next < lines.size(); next++) {
                if (matching.test(lines.get(next))) {
                    return lines.get(next);
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("no " + what + " within " + TIMEOUT + "; " + this);
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    synchronized int stdoutLines() {
        return stdout.size();
    }

    synchronized int stderrLines() {
        return stderr.size();
    }

    synchronized List<String> stdout() {
        return List.copyOf(stdout);
    }

    synchronized List<String> stderr() {
        return List.copyOf(stderr);
    }

    /** Sends the signal {@code name} ("USR1") as kill(1) does. */
    void signal(String name) throws IOException, InterruptedException {
        int status = new ProcessBuilder("kill", "-" + name, Long.toString(pid())).inheritIO().start().waitFor();
        if (status != 0) {
            throw new AssertionError("kill -" + name + " " + pid() + " exited with " + status);
        }
    }

    /** The exit status, once the process has ended and both streams are read to their end. */
    int awaitExit() throws InterruptedException {
        if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("still running after " + TIMEOUT + "; " + this);
        }
        stdoutReader.join(TIMEOUT.toMillis());
        stderrReader.join(TIMEOUT.toMillis());
        return process.exitValue();
    }

    /** Kills what is left; {@link #signal} ends the process when the output still matters. */
    @Override
    public void close() {
        process.destroyForcibly();
    }

    @Override
    public synchronized String toString() {
        return "pid " + pid() + "\nstdout:\n" + String.join("\n", stdout) + "\nstderr:\n" + String.join("\n", stderr);
    }
}
