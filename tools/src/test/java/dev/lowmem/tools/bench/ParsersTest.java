package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The parsers on what a guest printed in real bench runs (console logs, escape codes and all). */
class ParsersTest {
    @Test
    void sockperfRoundTripsFromAGuestsConsole() throws Exception {
        SockperfResult result = SockperfResult.ofConsole(Fixtures.text("sockperf-console.log"));

        assertEquals(new SockperfResult(1004.150, 4885.249, 6425.471, 509), result);
        assertEquals("1004.150 4885.249 6425.471", result.figures());
        assertEquals("median 1004 us, p99 4885 us, p99.9 6425 us of 509 round trips", result.summary());
    }

    @Test
    void sockperfWithoutItsCountIsRefused() throws Exception {
        String uncounted = Fixtures.text("sockperf-console.log").replace("Total 509 observations", "Total observations");

        assertThrows(IllegalArgumentException.class, () -> SockperfResult.ofConsole(uncounted));
    }

    @Test
    void sockperfWithoutFullRttIsRefused() throws Exception {
        String halves = Fixtures.text("sockperf-console.log").replace("Summary: Round trip is", "Summary: Latency is");

        assertThrows(IllegalArgumentException.class, () -> SockperfResult.ofConsole(halves));
    }

    @Test
    void sockperfWithoutItsSectionIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> SockperfResult.ofConsole("[    1.2] virtio_net virtio0 eth0: up\n"));
    }

    @Test
    void iperf3SummaryFromAGuestsConsoleLeavesTheOmittedSecondsOut() throws Exception {
        Iperf3Result result = Iperf3Result.ofConsole(Fixtures.text("iperf3-console.log"), null);

        assertEquals(1870, result.megabitsPerSecond(), 1e-9);
        assertEquals(0, result.retransmits());
        assertEquals("1870.0 0", result.figures());
    }

    @Test
    void iperf3SummaryOfANamedRunIsTheClientsNotTheServers() throws Exception {
        Iperf3Result result = Iperf3Result.ofConsole(Fixtures.text("iperf3-stress-console.log"), "stressed-guest-to-host");

        assertEquals(1080, result.megabitsPerSecond(), 1e-9);
        assertEquals(4, result.retransmits());
        assertThrows(IllegalArgumentException.class,
                () -> Iperf3Result.ofConsole(Fixtures.text("iperf3-stress-console.log"), "baseline-guest-to-host"));
    }

    @Test
    void iperf3SecondsAreTheReceiversWithoutTheShortLastInterval() throws Exception {
        String section = ConsoleSection.of(Fixtures.text("iperf3-stress-console.log"), "iperf3 stressed-guest-to-host");

        assertEquals(List.of(new Iperf3Intervals.Interval(0, 1, 1390), new Iperf3Intervals.Interval(1, 2, 1150),
                new Iperf3Intervals.Interval(2, 3, 730)), Iperf3Intervals.parse(section, true));
        assertEquals(List.of(1410.0, 1150.0, 712.0),
                Iperf3Intervals.parse(section, false).stream().map(Iperf3Intervals.Interval::megabitsPerSecond).toList(),
                "the client's own lines are the sender's");
    }

    @Test
    void iperf3IntervalsOf100MsFromBothEnds() throws Exception {
        String console = Fixtures.text("stress-run-ours-squeeze/console.log");

        List<Iperf3Intervals.Interval> fromServer = Iperf3Intervals.parse(ConsoleSection.of(console, "iperf3 stressed-guest-to-host"), true);
        List<Iperf3Intervals.Interval> ofClient = Iperf3Intervals.parse(ConsoleSection.of(console, "iperf3 stressed-host-to-guest"), false);

        assertEquals(40, fromServer.size(), "the host's server at -i 0.1 too; 4.00-4.04 left out, under half of 0.1 s");
        assertEquals(new Iperf3Intervals.Interval(3.9, 4.0, 524), fromServer.getLast());
        assertEquals(40, ofClient.size());
        assertEquals(new Iperf3Intervals.Interval(3.7, 3.8, 0), ofClient.get(37), "0.00 bits/sec: an empty 100 ms");
        assertEquals(new Iperf3Intervals.Interval(3.9, 4.01, 733), ofClient.getLast());
    }

    @Test
    void aSectionEndsAtItsEndMarkerAndDropsCarriageReturns() {
        String console = "boot\r\n=== sockperf begin ===\r\nline\r\n=== sockperf end ===\r\nafter\r\n";

        assertEquals("=== sockperf begin ===\nline\n=== sockperf end ===\n", ConsoleSection.of(console, "sockperf"));
        assertEquals("", ConsoleSection.of(console, "iperf3"));
    }

    @Test
    void udpLossIsTheReceiversOfAGuestsReverseStream() throws Exception {
        Iperf3UdpResult result = Iperf3UdpResult.ofConsole(Fixtures.text("squeeze-stress-console.log"), "stressed-udp");

        assertEquals(new Iperf3UdpResult(26.4e6, 1344, 10457), result);
        assertEquals("26.4 1344 10457 12.85", result.figures(), "the loss from the counts, not iperf3's rounded 13%");
    }

    @Test
    void udpLossOfATcpRunIsRefused() throws Exception {
        assertThrows(IllegalArgumentException.class,
                () -> Iperf3UdpResult.ofConsole(Fixtures.text("squeeze-stress-console.log"), "stressed-host-to-guest"));
    }

    @Test
    void squeezeCountersFromTheLineSqueezeStopPrinted() throws Exception {
        Map<String, Long> counters = SqueezeStats.ofConsole(Fixtures.text("squeeze-stress-console.log"));

        assertEquals(List.of("squeezes", "held_pages", "peak_held_pages", "oom_waits", "oom_releases", "oom_released_pages",
                "lowest_free_pages"), List.copyOf(counters.keySet()));
        assertEquals(11, counters.get("squeezes"));
        assertEquals(7775, counters.get("peak_held_pages"));
        assertEquals(10, counters.get("oom_waits"));
    }

    @Test
    void squeezeCountersWithoutTheModuleAreRefused() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> SqueezeStats.ofConsole(Fixtures.text("iperf3-stress-console.log")));
    }
}
