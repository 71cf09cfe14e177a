package dev.lowmem.tools.vhostusernet;

import static dev.lowmem.tools.vhostusernet.PoolFixtures.POOL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.tools.vhostusernet.ControlCommands.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControlCommandsTest {
    private static final StatsSnapshot SNAPSHOT = new StatsSnapshot(Instant.parse("2026-11-23T10:41:20Z"), 0,
            List.of(new PairStats(0, java.util.Map.of(), 0, 0)), 0, POOL, GcStats.NONE);

    @TempDir
    Path directory;

    private final AtomicLong budget = new AtomicLong(512 << 10);
    private final CaptureControl capture = new CaptureControl(List.of());
    private final ControlCommands commands = new ControlCommands(() -> SNAPSHOT, budget::get, budget::set, capture);

    @Test
    void statsIsTheJsonStatsLine() {
        assertEquals(new Reply(new JsonStatsLine().format(SNAPSHOT).strip(), true), commands.execute("stats"));
    }

    @Test
    void poolBudgetSetsTheBudgetAndSaysWhatItWas() {
        assertEquals(new Reply("{\"pool_budget_bytes\":1048576,\"was_bytes\":524288}", true),
                commands.execute(" pool-budget  1M "));
        assertEquals(1 << 20, budget.get());
    }

    @Test
    void aRequestItCannotCarryOutIsAnErrorThatChangesNothing() {
        assertEquals(Reply.error("pool-budget: 'lots' is not a size; write it as 65536, 512K, 64M or 1G"),
                commands.execute("pool-budget lots"));
        assertEquals(Reply.error("pool-budget takes one size, e.g. pool-budget 64M"), commands.execute("pool-budget"));
        assertEquals(512 << 10, budget.get());
        assertEquals(Reply.error("unknown command 'grow'; " + ControlCommands.HELP), commands.execute("grow 1G"));
        assertEquals(Reply.error("an empty request; " + ControlCommands.HELP), commands.execute(""));
        assertEquals(Reply.error("pcap start FILE [SIZE], or pcap stop"), commands.execute("pcap"));
        assertEquals(Reply.error("pcap stop: no capture runs"), commands.execute("pcap stop"));
        assertEquals(Reply.error("pcap start: cannot write /nonexistent/x.pcap: /nonexistent/x.pcap"),
                commands.execute("pcap start /nonexistent/x.pcap"));
        assertEquals("{\"error\":\"a \\\"quoted\\\" word\"}", Reply.error("a \"quoted\" word").json());
    }

    @Test
    void pcapStartsAndStopsOneCaptureAtATime() throws Exception {
        Path file = directory.resolve("a.pcap");
        assertEquals(new Reply("{\"pcap\":\"" + file + "\",\"max_bytes\":1048576}", true),
                commands.execute("pcap start " + file + " 1M"));
        assertTrue(Files.exists(file));
        assertEquals(Reply.error("pcap start: a capture into " + file + " runs already; stop it first"),
                commands.execute("pcap start " + directory.resolve("b.pcap")));
        assertEquals(new Reply("{\"pcap\":\"" + file + "\",\"frames\":0,\"bytes\":24,\"capped\":false}", true),
                commands.execute("pcap stop"));
        assertEquals(24, Files.size(file), "the file header alone");
    }
}
