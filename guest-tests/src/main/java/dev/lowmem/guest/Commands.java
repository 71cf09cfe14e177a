package dev.lowmem.guest;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Runs a short host command to its end, with a time limit, and keeps what it printed. */
public final class Commands {
    private Commands() {
    }

    /** How a command ended and what it printed. */
    public record Output(List<String> command, int exitCode, String stdout, String stderr) {
        /** This output, or an exception that names the command, its exit code and its stderr. */
        public Output checked() throws IOException {
            if (exitCode != 0) {
                throw new IOException(String.join(" ", command) + " exited with " + exitCode + ": " + stderr.strip());
            }
            return this;
        }
    }

    public static Output run(Duration timeout, List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectInput(Processes.NO_INPUT).start();
        // Both pipes drained as the command runs, so that neither can fill and stall it.
        CompletableFuture<String> stdout = drain(process.getInputStream());
        CompletableFuture<String> stderr = drain(process.getErrorStream());
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            throw new IOException(String.join(" ", command) + " did not end within " + timeout.toSeconds() + " s");
        }
        return new Output(command, process.exitValue(), joined(stdout), joined(stderr));
    }

    private static CompletableFuture<String> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (stream) {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, Thread::startVirtualThread);
    }

    private static String joined(CompletableFuture<String> text) throws IOException, InterruptedException {
        try {
            return text.get();
        } catch (ExecutionException e) {
            throw new IOException("reading a command's output", e.getCause());
        }
    }
}
