package dev.lowmem.tools.vhostusernet;

import static dev.lowmem.tools.vhostusernet.PoolFixtures.NO_POOL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control socket in this process, on commands whose state the test sees. */
class ControlSocketTest {
    private static final Duration DEADLINE = Duration.ofMillis(300);

    @TempDir
    Path directory;

    private final AtomicLong budget = new AtomicLong(1 << 20);
    private final ControlCommands commands = new ControlCommands(
            () -> new StatsSnapshot(Instant.EPOCH, 0, List.of(), 0, NO_POOL, GcStats.NONE), budget::get, budget::set,
            new CaptureControl(List.of()));

    @Test
    void aSilentClientIsClosedAtTheDeadlineAndTheNextOneServed() throws Exception {
        Path path = directory.resolve("ctl.sock");
        try (ControlSocket ctl = ControlSocket.start(path, commands, DEADLINE);
                SocketChannel silent = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(path));
            long start = System.nanoTime();
            // Served once the silent one's deadline has passed: one thread serves in turn.
            assertEquals("{\"pool_budget_bytes\":2097152,\"was_bytes\":1048576}\n",
                    CtlCommand.send(path, "pool-budget 2M\n"));
            assertTrue(System.nanoTime() - start >= DEADLINE.toNanos() / 2, "waited for the silent client");
            assertEquals(-1, silent.read(ByteBuffer.allocate(64)), "closed without a reply");
            assertEquals(2 << 20, budget.get());
        }
        assertFalse(Files.exists(path), "close removes the socket file");
    }

    @Test
    void aRequestWithoutALineEndIsTheRestOfTheStream() throws Exception {
        Path path = directory.resolve("ctl.sock");
        try (ControlSocket ctl = ControlSocket.start(path, commands, DEADLINE)) {
            assertEquals("{\"commands\":\"" + ControlCommands.HELP + "\"}\n", CtlCommand.send(path, "help"));
            // What follows the first line is not a second request.
            assertEquals("{\"commands\":\"" + ControlCommands.HELP + "\"}\n", CtlCommand.send(path, "help\nstats\n"));
        }
    }

    @Test
    void closingStopsTheServingThreadAndRemovesTheFile() throws Exception {
        Path path = directory.resolve("ctl.sock");
        ControlSocket.start(path, commands, DEADLINE).close();
        assertFalse(Files.exists(path));
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(thread -> thread.getName().equals("ctl")),
                "the thread blocked in accept has returned");
    }
}
