package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class Iperf3ResultTest {
    // What iperf3 3.12 printed in the test guest, -R (the host sent).
    private static final String REVERSE = """
            Connecting to host 10.0.2.1, port 5201
            Reverse mode, remote host 10.0.2.1 is sending
            [  5] local 10.0.2.2 port 41150 connected to 10.0.2.1 port 5201
            [ ID] Interval           Transfer     Bitrate
            [  5]   0.00-1.00   sec   264 MBytes  2.21 Gbits/sec
            [  5]   1.00-2.00   sec   328 MBytes  2.76 Gbits/sec
            [  5]   2.00-3.00   sec   256 MBytes  2.15 Gbits/sec
            - - - - - - - - - - - - - - - - - - - - - - - - -
            [ ID] Interval           Transfer     Bitrate         Retr
            [  5]   0.00-3.02   sec   855 MBytes  2.38 Gbits/sec   17             sender
            [  5]   0.00-3.00   sec   849 MBytes  2.37 Gbits/sec                  receiver

            iperf Done.
            """;

    @Test
    void takesTheReceiversRateAndTheSendersRetransmits() {
        Iperf3Result result = Iperf3Result.parse(REVERSE);

        assertEquals(2.37e9, result.receivedBitsPerSecond(), 1);
        assertEquals(17, result.retransmits());
        assertEquals("2370 Mbit/s, 17 retransmits", result.summary());
    }

    @Test
    void readsEachUnitPrefix() {
        String line = "[  5]   0.00-3.00   sec   849 KBytes  %s                  receiver%n";
        assertEquals(850e3, Iperf3Result.parse(line.formatted("850 Kbits/sec")).receivedBitsPerSecond(), 1);
        assertEquals(850e6, Iperf3Result.parse(line.formatted("850 Mbits/sec")).receivedBitsPerSecond(), 1);
        assertEquals(850, Iperf3Result.parse(line.formatted("850 bits/sec")).receivedBitsPerSecond(), 1);
    }

    @Test
    void refusesOutputWithoutASummary() {
        assertThrows(IllegalArgumentException.class,
                () -> Iperf3Result.parse("iperf3: error - unable to connect to server: Connection refused"));
    }
}
