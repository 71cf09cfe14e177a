package dev.lowmem.tools.vhostusernet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowmem.devices.net.MacAddress;
import dev.lowmem.devices.net.NetDeviceOptions;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BannerTest {
    private static final long OFFERED = Features.of(Feature.VERSION_1, Feature.NET_MAC);

    @Test
    void listening() {
        Settings settings = new Settings(List.of(Path.of("/run/vnet0.sock")), -1, false, false, new SocketMode(0660),
                Duration.ofSeconds(5), new PortChoice.Sink(false), NetDeviceOptions.defaults(), 64L << 20, null, Duration.ZERO, StatsFormat.TEXT,
                Duration.ofSeconds(300), null, null, null);

        assertEquals(List.of(
                Version.line(),
                "port: sink, 1 queue pair, MTU 1500, MAC 52:54:00:12:34:56, poll window 50 to 500 us",
                "socket: /run/vnet0.sock, listening, mode 0660; a front-end has 5000 ms to send SET_OWNER",
                "offered: NET_MAC | VERSION_1",
                "packet pool: budget 64M for frames held while the guest's RX ring is empty; 'pool-budget SIZE' on"
                        + " standard input changes it",
                "stats: text on standard output, on kill -USR1 4242, and at exit"),
                Banner.lines(settings, List.of("sink"), OFFERED, 4242));
    }

    @Test
    void connecting() {
        Settings settings = new Settings(List.of(Path.of("/run/qemu.sock")), -1, false, true, SocketMode.OWNER_ONLY,
                Duration.ofMillis(250), new PortChoice.Tap("vnet0"), new NetDeviceOptions(MacAddress.parse("02:00:00:00:00:01"), 9000, 2,
                        Duration.ZERO, Duration.ZERO), 512 << 10, Path.of("/run/vnet0.commands"), Duration.ofSeconds(10), StatsFormat.JSON,
                Duration.ofSeconds(300), null, null, null);

        assertEquals(List.of(
                Version.line(),
                "port: tap vnet0, 2 queue pairs, MTU 9000, MAC 02:00:00:00:00:01, poll window 0 us",
                "socket: /run/qemu.sock, connecting to the front-end listening there, again 1 s after it goes; a"
                        + " front-end has 250 ms to send SET_OWNER",
                "offered: NET_MAC | VERSION_1",
                "packet pool: budget 512K for frames held while the guest's RX ring is empty; 'pool-budget SIZE' on"
                        + " /run/vnet0.commands changes it",
                "stats: json on standard output, every 10 s, on kill -USR1 4242, and at exit"),
                Banner.lines(settings, List.of("tap vnet0"), OFFERED, 4242));
    }

    @Test
    void theNegotiatedLineNamesTheFeatures() {
        assertEquals("negotiated: NET_MAC | VERSION_1", Banner.negotiated(OFFERED));
    }

    @Test
    void aSwitch() {
        Settings settings = new Settings(List.of(Path.of("/run/a.sock"), Path.of("/run/b.sock")), -1, true, false,
                SocketMode.OWNER_ONLY, Duration.ofSeconds(5), new PortChoice.Tap("vsw0"), NetDeviceOptions.defaults(),
                64L << 20, null, Duration.ZERO, StatsFormat.TEXT, Duration.ofSeconds(120), null, null, null);

        assertEquals(List.of(
                Version.line(),
                "port: switch port 0 (a.sock), 1 queue pair, MTU 1500, MAC 52:54:00:12:34:56, poll window 50 to 500 us",
                "socket: /run/a.sock, listening, mode 0600; a front-end has 5000 ms to send SET_OWNER",
                "port: switch port 1 (b.sock), 1 queue pair, MTU 1500, MAC 52:54:00:12:34:57, poll window 50 to 500 us",
                "socket: /run/b.sock, listening, mode 0600; a front-end has 5000 ms to send SET_OWNER",
                "switch: 2 guests, uplink tap vsw0; a MAC is forgotten after 120 s of silence",
                "offered: NET_MAC | VERSION_1",
                "packet pool: budget 64M for the frames crossing the switch; 'pool-budget SIZE' on standard input"
                        + " changes it",
                "stats: text on standard output, on kill -USR1 4242, and at exit"),
                Banner.lines(settings, List.of("switch port 0 (a.sock)", "switch port 1 (b.sock)"), OFFERED, 4242));
    }
}
