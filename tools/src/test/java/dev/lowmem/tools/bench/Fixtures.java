package dev.lowmem.tools.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Real outputs captured from bench runs (src/test/resources/dev/lowmem/tools/bench). */
final class Fixtures {
    private Fixtures() {
    }

    static String text(String name) throws IOException {
        try (InputStream in = Fixtures.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("no fixture " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The files of a stress-guest-memory run's directory (a fixture directory of that name) into {@code directory}. */
    static Path copyRun(String name, Path directory) throws IOException {
        for (String file : new String[] {"console.log", "rc", "stats-begin", "stats-end", "tap-begin", "tap-end"}) {
            copy(name + "/" + file, directory);
        }
        return directory;
    }

    static Path copy(String name, Path directory) throws IOException {
        Path file = directory.resolve(Path.of(name).getFileName().toString());
        try (InputStream in = Fixtures.class.getResourceAsStream(name)) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }
}
