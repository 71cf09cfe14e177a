package dev.lowmem.guest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The test guest's kernel and initramfs, built from Debian packages by build-guest and cached
 * (a few seconds and one download the first time, nothing after).
 */
public final class GuestImage {
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(10);

    private GuestImage() {
    }

    /** Builds the guest if the cache lacks it, build-guest's progress going to our standard error; returns its directory. */
    public static Path ensureBuilt() throws IOException, InterruptedException {
        Process build = new ProcessBuilder(ProjectTree.guestScript("build-guest").toString())
                .redirectInput(Processes.NO_INPUT).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String dir = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!build.waitFor(BUILD_TIMEOUT.toMinutes(), TimeUnit.MINUTES)) {
            build.destroyForcibly().waitFor();
            throw new IOException("build-guest did not end within " + BUILD_TIMEOUT.toMinutes() + " min");
        }
        if (build.exitValue() != 0) {
            throw new IOException("build-guest failed (exit " + build.exitValue() + ")");
        }
        return Path.of(dir);
    }
}
