package dev.lowmem.tools.vhostusernet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class MetricsServerTest {

    @Test
    void aPortAloneListensOnTheLoopbackAddress() {
        assertEquals(new InetSocketAddress("127.0.0.1", 9100), MetricsServer.address("9100"));
    }

    @Test
    void anAddressAndAPort() {
        assertEquals(new InetSocketAddress("0.0.0.0", 9100), MetricsServer.address("0.0.0.0:9100"));
        assertEquals(new InetSocketAddress("::1", 0), MetricsServer.address("[::1]:0"));
    }

    @Test
    void refusesWhatIsNotAPortOrAnUnbracketedIpv6Address() {
        assertEquals("'65536' is not ADDR:PORT or PORT (0 to 65535), e.g. 127.0.0.1:9100",
                assertThrows(IllegalArgumentException.class, () -> MetricsServer.address("65536")).getMessage());
        assertEquals("':9100' is not ADDR:PORT or PORT (0 to 65535), e.g. 127.0.0.1:9100",
                assertThrows(IllegalArgumentException.class, () -> MetricsServer.address(":9100")).getMessage());
        assertEquals("'::1:9100': write an IPv6 address in brackets, [::1]:9100",
                assertThrows(IllegalArgumentException.class, () -> MetricsServer.address("::1:9100")).getMessage());
    }
}
