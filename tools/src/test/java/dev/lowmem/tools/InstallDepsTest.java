package dev.lowmem.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tools/bin/lib/install-deps, the installer .ci/run, tools/bin/demo and tools/bin/test share: what
 * it says to a user who is not root on a machine that lacks a package, and that it says nothing
 * when nothing is missing.
 */
class InstallDepsTest {
    /** Surefire runs in the module's directory, tools/. */
    private static final Path SCRIPT = Path.of("").toAbsolutePath().getParent().resolve("tools/bin/lib/install-deps");

    @TempDir
    Path directory;

    record Run(int status, String stdout, String stderr) {
    }

    @Test
    void refusesWhenNotRootAndSomethingIsMissingNamingWhyAndTheCommandToRun() throws Exception {
        // A PATH with the shell's tools and no mvn, systemd-socket-activate or tcpdump, as on a fresh machine.
        Path bin = Files.createDirectory(directory.resolve("bin"));
        for (String tool : List.of("bash", "cat", "sed", "grep", "dirname", "apt-cache")) {
            // A script rather than a link, which JUnit warns about when it deletes the directory.
            Path wrapper = Files.writeString(bin.resolve(tool), "#!" + which("bash") + "\nexec " + which(tool)
                    + " \"$@\"\n");
            Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
        Run run = run(true, bin.toString(), "maven");
        assertEquals(2, run.status(), run.toString());
        assertEquals("", run.stdout());
        assertEquals(List.of(
                "install-deps: this machine lacks what the command needs, and installing it needs root.",
                "  maven: builds the jars and runs the tests",
                "  systemd: systemd-socket-activate hands the backend a listening socket in its tests (--fd)",
                "  tcpdump: reads back the packet captures the tests write",
                "As root, run:",
                "  apt-get update && apt-get install -y maven systemd tcpdump",
                "or run this command as root, which does it."), run.stderr().lines().toList());
    }

    @Test
    void saysNothingWhenNothingIsMissing() throws Exception {
        // Maven runs this test, so mvn is there.
        Run run = run(false, System.getenv("PATH"), "maven");
        assertEquals(new Run(0, "", ""), run);
    }

    @Test
    void refusesAnUnknownNeed() throws Exception {
        Run run = run(false, System.getenv("PATH"), "qemu");
        assertEquals(2, run.status());
        assertEquals("install-deps: unknown 'qemu': maven, hugepages or guest (see --help)\n", run.stderr());
    }

    /** The script, as the user nobody when {@code asNobody} and this test runs as root. */
    private Run run(boolean asNobody, String path, String... needs) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (asNobody && "root".equals(System.getProperty("user.name"))) {
            command.addAll(List.of(which("setpriv").toString(), "--reuid=nobody", "--regid=nogroup", "--clear-groups"));
        }
        command.add(which("env").toString());
        command.add("PATH=" + path);
        command.add(which("bash").toString());
        command.add(SCRIPT.toString());
        command.addAll(List.of(needs));
        Path out = directory.resolve("out");
        Path err = directory.resolve("err");
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                .directory(directory.toFile()).start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "install-deps still running after 60 s");
        return new Run(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    private static Path which(String tool) {
        for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
            Path candidate = Path.of(dir, tool);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError(tool + " is not in /usr/bin, /bin, /usr/sbin or /sbin");
    }
}
