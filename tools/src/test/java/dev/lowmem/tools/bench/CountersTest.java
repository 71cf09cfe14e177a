package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** Counters as a stress run saved them (stress-guest-memory --squeeze both, ours), and their deltas. */
class CountersTest {
    private static final String RUN = "stress-run-ours/";

    @Test
    void ourJsonLineSummedOverThePairsInItsOrder() throws Exception {
        Counters stats = Counters.ofBackendStats(Fixtures.text(RUN + "stats-end"));

        assertEquals(List.of("gc_collections", "gc_ms", "host_drops", "pool_budget_bytes"),
                List.copyOf(stats.values().keySet()).subList(0, 4), "the strings (time, negotiated) left out");
        assertEquals(OptionalLong.of(22005), stats.get("rx_frames"));
        assertTrue(stats.get("pair").isEmpty(), "the pair's number is no counter");
    }

    @Test
    void testpmdsPortLinesAsPortAndKey() throws Exception {
        Counters stats = Counters.ofBackendStats(Fixtures.text("stress-run-dpdk/stats-end"));

        assertEquals(List.of("vhost_rx_packets", "vhost_tx_packets", "vhost_rx_bytes"), List.copyOf(stats.values().keySet()).subList(0, 3));
        assertEquals(OptionalLong.of(44), stats.get("vhost_tx_dropped"));
        assertEquals(OptionalLong.of(164412), stats.get("tap_tx_packets"));
        assertTrue(stats.get("vhost_seconds").isEmpty(), "63.25 s is no count");
    }

    @Test
    void theTapsCountersOverTheStressedPart() throws Exception {
        Counters deltas = Counters.ofLines(Fixtures.text(RUN + "tap-end")).minus(Counters.ofLines(Fixtures.text(RUN + "tap-begin")));

        assertEquals(List.of("rx_packets", "tx_packets", "rx_dropped", "tx_dropped"), List.copyOf(deltas.values().keySet()));
        assertEquals("15685", deltas.values().get("tx_packets"));
    }

    @Test
    void aCounterThatCouldNotBeReadHasNoDelta() {
        Counters deltas = Counters.ofLines("rx_packets 10\ntx_packets ?\n").minus(Counters.ofLines("rx_packets 4\n"));

        assertEquals(Map.of("rx_packets", "6", "tx_packets", "?"), deltas.values());
    }

    @Test
    void theGuestKernelsCountersFromItsConsoleLines() throws Exception {
        String console = Fixtures.text(RUN + "console.log");

        Counters deltas = Counters.ofGuestLine(console, "stressed-end").minus(Counters.ofGuestLine(console, "stressed-begin"));

        assertEquals("14", deltas.values().get("pageoutrun"));
        assertEquals("0", deltas.values().get("oom_kill"));
        assertTrue(Counters.ofGuestLine(console, "no-such-line").isEmpty());
    }
}
