package dev.lowmem.tools.vhostusernet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ConsoleCommandsTest {
    private final AtomicLong budget = new AtomicLong(512 << 10);
    private final AtomicInteger reports = new AtomicInteger();
    private final ConsoleCommands commands = new ConsoleCommands(budget::get, budget::set, reports::incrementAndGet);

    @Test
    void poolBudgetChangesTheBudgetAndSaysWhatItWas() {
        assertEquals("pool budget: 64M (was 512K)", commands.execute("pool-budget 64M"));
        assertEquals(64L << 20, budget.get());
    }

    @Test
    void aBadSizeLeavesTheBudgetAsItWas() {
        assertEquals("pool-budget: 'lots' is not a size; write it as 65536, 512K, 64M or 1G",
                commands.execute("pool-budget lots"));
        assertEquals("pool-budget takes one size, e.g. pool-budget 64M", commands.execute("pool-budget"));
        assertEquals(512 << 10, budget.get());
    }

    @Test
    void statsPrintsTheCounters() {
        assertNull(commands.execute("  stats "));
        assertEquals(1, reports.get());
    }

    @Test
    void blankLinesAreIgnoredAndUnknownOnesAnsweredWithTheList() {
        assertNull(commands.execute(""));
        assertEquals("unknown command 'grow'; " + ConsoleCommands.HELP, commands.execute("grow 1G"));
    }
}
