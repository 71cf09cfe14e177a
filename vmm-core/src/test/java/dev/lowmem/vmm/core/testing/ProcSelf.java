package dev.lowmem.vmm.core.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** What the kernel says about this process: its open descriptors and its mappings. */
public final class ProcSelf {
    private ProcSelf() {
    }

    public static long openFdCount() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Lines of /proc/self/maps naming {@code memfd:<name>}. */
    public static long mappingsOf(String memfdName) {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.filter(line -> line.contains("/memfd:" + memfdName + " ")
                    || line.endsWith("/memfd:" + memfdName + " (deleted)")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
