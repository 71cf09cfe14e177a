package dev.lowmem.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PingResultTest {
    @Test
    void readsBusyboxsSummary() {
        PingResult result = PingResult.parse("""
                --- 10.0.2.1 ping statistics ---
                3 packets transmitted, 3 packets received, 0% packet loss
                round-trip min/avg/max = 2.734/8.058/18.372 ms
                """);

        assertEquals(new PingResult(3, 3, 2.734, 8.058, 18.372), result);
    }

    @Test
    void readsIputilsSummary() {
        PingResult result = PingResult.parse("""
                5 packets transmitted, 4 received, 20% packet loss, time 4005ms
                rtt min/avg/max/mdev = 0.031/0.040/0.052/0.008 ms
                """);

        assertEquals(new PingResult(5, 4, 0.031, 0.040, 0.052), result);
    }

    @Test
    void noAnswerHasNoRoundTrip() {
        PingResult result = PingResult.parse("2 packets transmitted, 0 packets received, 100% packet loss");

        assertEquals(0, result.received());
        assertTrue(Double.isNaN(result.avgMs()));
    }

    @Test
    void refusesOutputWithoutASummary() {
        assertThrows(IllegalArgumentException.class, () -> PingResult.parse("ping: sendto: Network is unreachable"));
    }
}
