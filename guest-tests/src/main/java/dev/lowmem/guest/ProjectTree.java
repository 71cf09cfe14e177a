package dev.lowmem.guest;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the repository is: the harness runs its scripts and the command's jar from there. The
 * {@code lowmem.root} property (set by the build and by tools/bin/demo), else the nearest parent of
 * the working directory that holds {@code guest-tests/scripts}.
 */
final class ProjectTree {
    private ProjectTree() {
    }

    static Path root() {
        String property = System.getProperty("lowmem.root");
        if (property != null) {
            return Path.of(property).toAbsolutePath().normalize();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("guest-tests/scripts"))) {
                return dir;
            }
        }
        throw new IllegalStateException("cannot find the lowmem-vnet repository: run from inside it, or set -Dlowmem.root");
    }

    static Path guestScript(String name) {
        return existing(root().resolve("guest-tests/scripts").resolve(name), "a guest-tests script");
    }

    /** The command's runnable jar, which {@code mvn package} and tools/bin/vhost-user-net build. */
    static Path backendJar() {
        return existing(root().resolve("tools/target/vhost-user-net.jar"),
                "the vhost-user-net jar (build it: mvn -pl tools -am package -DskipTests)");
    }

    private static Path existing(Path path, String what) {
        if (!Files.exists(path)) {
            throw new IllegalStateException("missing " + what + ": " + path);
        }
        return path;
    }
}
