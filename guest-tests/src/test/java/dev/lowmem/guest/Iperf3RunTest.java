package dev.lowmem.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowmem.guest.GuestTraffic.Direction;
import java.util.List;
import org.junit.jupiter.api.Test;

class Iperf3RunTest {
    // What `guest-stress iperf3` printed in the test guest, the guest sending, the memory hog's lines
    // between iperf3's (cut short: 3 s).
    private static final String GUEST_SENDS = """
            === iperf3 stressed-guest-to-host begin ===
            Connecting to host 10.0.2.1, port 5201
            [  5] local 10.0.2.2 port 48870 connected to 10.0.2.1 port 5201
            MEMHOG t=2 held_mb=33.2 churn_mb=39.6 cut=2 free_mb=8.0 trough_mb=4.3 min_mb=1.0 low_mb=1.3 avail_mb=13.7 cpu_pct=21
            [ ID] Interval           Transfer     Bitrate         Retr  Cwnd
            [  5]   0.00-1.00   sec   168 MBytes  1.41 Gbits/sec    0    577 KBytes
            MEMHOG t=3 held_mb=33.0 churn_mb=39.7 cut=2 free_mb=9.1 trough_mb=5.3 min_mb=1.0 low_mb=1.3 avail_mb=14.7 cpu_pct=18
            [  5]   1.00-2.00   sec   136 MBytes  1.15 Gbits/sec    0    577 KBytes
            [  5]   2.00-3.03   sec  86.8 MBytes   712 Mbits/sec    4    607 KBytes
            - - - - - - - - - - - - - - - - - - - - - - - - -
            [ ID] Interval           Transfer     Bitrate         Retr
            [  5]   0.00-3.03   sec   391 MBytes  1.08 Gbits/sec    4             sender
            [  5]   0.00-3.04   sec   391 MBytes  1.08 Gbits/sec                  receiver

            Server output:
            -----------------------------------------------------------
            Server listening on 5201 (test #3)
            -----------------------------------------------------------
            Accepted connection from 10.0.2.2, port 48868
            [  5] local 10.0.2.1 port 5201 connected to 10.0.2.2 port 48870
            [ ID] Interval           Transfer     Bitrate
            [  5]   0.00-1.00   sec   166 MBytes  1.39 Gbits/sec
            [  5]   1.00-2.00   sec   137 MBytes  1.15 Gbits/sec
            [  5]   2.00-3.00   sec  87.1 MBytes   730 Mbits/sec
            [  5]   3.00-3.04   sec   640 KBytes   552 Mbits/sec
            - - - - - - - - - - - - - - - - - - - - - - - - -
            [ ID] Interval           Transfer     Bitrate
            [  5]   0.00-3.04   sec   391 MBytes  1.08 Gbits/sec                  receiver


            iperf Done.
            === iperf3 stressed-guest-to-host end ===
            """;

    // The host sending (-R): the client's own lines are the receiver's; the server's are the sender's.
    private static final String HOST_SENDS = """
            Connecting to host 10.0.2.1, port 5201
            Reverse mode, remote host 10.0.2.1 is sending
            [  5] local 10.0.2.2 port 43070 connected to 10.0.2.1 port 5201
            [ ID] Interval           Transfer     Bitrate
            [  5]   0.00-1.00   sec   173 MBytes  1.45 Gbits/sec
            [  5]   1.00-2.00   sec   999 KBytes  8.18 Mbits/sec
            - - - - - - - - - - - - - - - - - - - - - - - - -
            [ ID] Interval           Transfer     Bitrate         Retr
            [  5]   0.00-2.01   sec   174 MBytes   726 Mbits/sec   39             sender
            [  5]   0.00-2.00   sec   174 MBytes   730 Mbits/sec                  receiver

            Server output:
            [  5] local 10.0.2.1 port 5201 connected to 10.0.2.2 port 43070
            [ ID] Interval           Transfer     Bitrate         Retr  Cwnd
            [  5]   0.00-1.00   sec   173 MBytes  1.46 Gbits/sec    3    475 KBytes
            [  5]   1.00-2.00   sec   1.0 MBytes  8.20 Mbits/sec   36    509 KBytes
            - - - - - - - - - - - - - - - - - - - - - - - - -
            [ ID] Interval           Transfer     Bitrate         Retr
            [  5]   0.00-2.01   sec   174 MBytes   726 Mbits/sec   39             sender

            iperf Done.
            """;

    @Test
    void takesTheServersSecondsWhenTheGuestSends() {
        Iperf3Run run = Iperf3Run.parse(GUEST_SENDS, Direction.GUEST_TO_HOST);

        assertEquals(List.of(1390.0, 1150.0, 730.0), run.megabitsEachSecond(), "the last 40 ms left out");
        assertEquals(1.08e9, run.summary().receivedBitsPerSecond(), 1);
        assertEquals(4, run.summary().retransmits());
        assertEquals("1390 1150 730", run.seconds());
    }

    @Test
    void takesTheClientsSecondsWhenTheHostSends() {
        Iperf3Run run = Iperf3Run.parse(HOST_SENDS, Direction.HOST_TO_GUEST);

        assertEquals(List.of(1450.0, 8.18), run.megabitsEachSecond());
        assertEquals(730e6, run.summary().receivedBitsPerSecond(), 1);
        assertEquals(39, run.summary().retransmits());
    }

    @Test
    void countsTheSecondsUnderAShareOfAReference() {
        Iperf3Run run = Iperf3Run.parse(HOST_SENDS, Direction.HOST_TO_GUEST);

        assertEquals(1, run.secondsUnder(0.10, 1500));
        assertEquals(0, run.secondsUnder(0.10, 80));
    }
}
