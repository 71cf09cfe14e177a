package dev.lowmem.guest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A rig's own scratch directory (sockets, files sent), deleted with what is in it. */
record ScratchDirectory(Path path) implements AutoCloseable {
    @Override
    public void close() throws IOException {
        try (var entries = Files.list(path)) {
            for (Path entry : entries.toList()) {
                Files.deleteIfExists(entry);
            }
        }
        Files.deleteIfExists(path);
    }
}
