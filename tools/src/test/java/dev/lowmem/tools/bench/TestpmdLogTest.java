package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Real testpmd logs: a testpmd-frontend txonly run against DPDK's net_vhost (tools/bench, 64 B tx),
 * and a testpmd-vhost-backend forwarding between a guest and a net_tap (stress-guest-memory's dpdk
 * run: two SIGUSR1 snapshots, then the end), each beside the lines the scripts' awk printed for it.
 */
class TestpmdLogTest {
    @Test
    void aFrontEndsLineAsTheAwkPrintedIt() throws Exception {
        String log = Fixtures.text("testpmd-frontend/frontend-testpmd.log");

        List<String> lines = TestpmdLog.parse(log).summary("frontend", "seconds=3.06 features=0x910018000", "");

        assertEquals(Fixtures.text("testpmd-frontend/frontend.out").lines().toList(), lines);
    }

    @Test
    void theForwardBlocksTxDroppedNotTheAccumulatedOnesAndTheNicCounters() throws Exception {
        TestpmdLog.Port port = TestpmdLog.parse(Fixtures.text("testpmd-frontend/frontend-testpmd.log")).ports().getFirst();

        assertEquals("37807168", port.forward().get("TX-dropped"));
        assertEquals("213925888", port.nic().get("TX-bytes"));
    }

    @Test
    void twoNamedPortsFromTheLastOfThreeSnapshots() throws Exception {
        String log = Fixtures.text("testpmd-backend-tap/backend-testpmd.log");
        List<String> out = Fixtures.text("testpmd-backend-tap/backend.out").lines().toList();

        List<String> lines = TestpmdLog.parse(log).summary("backend", "seconds=51.30 features=0x17020e783", "vhost,tap");

        assertEquals(out.subList(4, 6), lines);
    }

    @Test
    void theFirstSnapshotFromTheLogAsItStoodThen() throws Exception {
        // the first SIGUSR1's "show port stats all" ends on line 190, before the second's "show fwd stats all"
        String log = String.join("\n", Fixtures.text("testpmd-backend-tap/backend-testpmd.log").lines().limit(190).toList());
        List<String> out = Fixtures.text("testpmd-backend-tap/backend.out").lines().toList();

        assertEquals(out.subList(0, 2), TestpmdLog.parse(log).summary("backend", "seconds=40.58", "vhost,tap"));
    }

    @Test
    void aPortWithoutANameWhenTheNamesRunOut() throws Exception {
        List<String> lines = TestpmdLog.parse(Fixtures.text("testpmd-backend-tap/backend-testpmd.log"))
                .summary("backend", "", "vhost");

        assertTrue(lines.get(0).startsWith("testpmd role=backend port=0 name=vhost rx_packets=201661 "), lines.get(0));
        assertEquals("testpmd role=backend port=1 rx_packets=249924 tx_packets=201661 rx_bytes=341940214"
                + " tx_bytes=300301318 rx_missed=0 tx_dropped=0 rx_errors=0 tx_errors=0 rx_nombuf=0", lines.get(1));
    }

    @Test
    void aCounterMissingFromTheLogIsZero() {
        String log = """
                  ######################## NIC statistics for port 3  ########################
                  RX-packets: 5          RX-missed: 1          RX-bytes:  320
                """;

        assertEquals(List.of("testpmd role=frontend port=3 rx_packets=5 tx_packets=0 rx_bytes=320 tx_bytes=0"
                + " rx_missed=1 tx_dropped=0 rx_errors=0 tx_errors=0 rx_nombuf=0 seconds=1.00"),
                TestpmdLog.parse(log).summary("frontend", "seconds=1.00", ""));
    }

    @Test
    void aLogWithoutNicStatisticsHasNoSummary() throws Exception {
        // the front-end's log cut before its "show port stats all": forward statistics alone
        String log = Fixtures.text("testpmd-frontend/frontend-testpmd.log");
        TestpmdLog cut = TestpmdLog.parse(log.substring(0, log.indexOf("NIC statistics")));

        assertEquals(List.of(), cut.ports());
        assertThrows(IllegalStateException.class, () -> cut.summary("frontend", "", ""));
    }
}
