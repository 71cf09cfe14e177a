package dev.lowmem.vmm.core.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Predicate;
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

    /**
     * Open descriptors on the file {@code target} ("/dev/net/tun"): unlike {@link #openFdCount()},
     * not moved by other code of the JVM opening or closing its own files meanwhile.
     */
    public static long openFdsOn(String target) {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> pointsTo(fd, target)).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean pointsTo(Path fd, String target) {
        try {
            return Files.readSymbolicLink(fd).toString().equals(target);
        } catch (IOException closedMeanwhile) {
            return false;
        }
    }

    /** How many epoll sets of this process watch the fd numbered {@code fd} (from /proc/self/fdinfo). */
    public static long epollSetsWatching(int fd) {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(ProcSelf::isEpoll).filter(epoll -> watches(epoll, fd)).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean isEpoll(Path fd) {
        return pointsTo(fd, "anon_inode:[eventpoll]");
    }

    private static boolean watches(Path epoll, int fd) {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/fdinfo", epoll.getFileName().toString()))) {
            return lines.anyMatch(line -> line.startsWith("tfd:") && line.split("\\s+")[1].equals(Integer.toString(fd)));
        } catch (IOException closedMeanwhile) {
            return false;
        }
    }

    /** Lines of /proc/self/maps: every mapping of the process. */
    public static long mappingCount() {
        return countMappings(line -> true);
    }

    /** Lines of /proc/self/maps naming a memfd, whatever its name. */
    public static long memfdMappingCount() {
        return countMappings(line -> line.contains("/memfd:"));
    }

    private static long countMappings(Predicate<String> which) {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.filter(which).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Lines of /proc/self/maps naming {@code memfd:<name>}. */
    public static long mappingsOf(String memfdName) {
        return countMappings(line -> line.contains("/memfd:" + memfdName + " ")
                || line.endsWith("/memfd:" + memfdName + " (deleted)"));
    }
}
