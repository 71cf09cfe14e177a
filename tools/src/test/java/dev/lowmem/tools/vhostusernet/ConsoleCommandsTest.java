package dev.lowmem.tools.vhostusernet;

import static dev.lowmem.tools.vhostusernet.PoolFixtures.NO_POOL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ConsoleCommandsTest {
    private final AtomicLong budget = new AtomicLong(512 << 10);
    private final AtomicInteger reports = new AtomicInteger();
    private final ConsoleCommands commands = new ConsoleCommands(new ControlCommands(
            () -> new StatsSnapshot(Instant.EPOCH, 0, List.of(), 0, NO_POOL, GcStats.NONE), budget::get, budget::set,
            new CaptureControl(List.of())), reports::incrementAndGet);

    @Test
    void aRequestIsAnsweredWithTheRepliesOfTheControlSocket() {
        assertEquals("pool-budget 64M: {\"pool_budget_bytes\":67108864,\"was_bytes\":524288}",
                commands.execute("pool-budget 64M"));
        assertEquals(64L << 20, budget.get());
        assertEquals("grow 1G: {\"error\":\"unknown command 'grow'; " + ControlCommands.HELP + "\"}",
                commands.execute("grow 1G"));
    }

    @Test
    void statsPrintsTheCountersInTheStatsFormat() {
        assertNull(commands.execute("  stats "));
        assertEquals(1, reports.get());
    }

    @Test
    void blankLinesAreIgnored() {
        assertNull(commands.execute(""));
        assertNull(commands.execute("   "));
    }
}
