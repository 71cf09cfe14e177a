package dev.lowmem.guest;

import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Ending and signalling child processes. */
final class Processes {
    /** Standard input for a child that must not read ours. */
    static final ProcessBuilder.Redirect NO_INPUT = ProcessBuilder.Redirect.from(new File("/dev/null"));
    private static final long GRACE_SECONDS = 10;

    private Processes() {
    }

    /** SIGTERM, so that the process can clean up (run-guest kills its QEMU); SIGKILL when it does not end in time. */
    static void stop(Process process) throws InterruptedException {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        if (!process.waitFor(GRACE_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    /** Sends {@code signal} (USR1, HUP, ...), which the JDK's Process has no method for. */
    static void signal(Process process, String signal) throws IOException, InterruptedException {
        Commands.run(Duration.ofSeconds(5), List.of("kill", "-" + signal, Long.toString(process.pid()))).checked();
    }
}
