package dev.lowmem.tools.vhostusernet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.net.MacAddress;
import dev.lowmem.devices.net.NetDeviceOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine.ParameterException;

class CommandOptionsTest {
    private static final String SOCKET = "/tmp/vnet-test.sock";

    @TempDir
    Path directory;

    private static Settings parse(String... args) {
        CommandOptions options = new CommandOptions();
        VhostUserNet.commandLine(options, System.out).parseArgs(args);
        return options.settings();
    }

    @Test
    void defaultsAreTheDevicesAndListenOwnerOnly() {
        Settings settings = parse("--socket", SOCKET, "--sink");

        assertEquals(List.of(Path.of(SOCKET)), settings.sockets());
        assertFalse(settings.client());
        assertEquals(SocketMode.OWNER_ONLY, settings.socketMode());
        assertEquals(Duration.ofSeconds(5), settings.negotiationDeadline());
        assertEquals(new PortChoice.Sink(false), settings.port());
        assertEquals(NetDeviceOptions.defaults(), settings.device());
        assertEquals(Duration.ZERO, settings.statsInterval());
        assertEquals(Duration.ofMillis(100), parse("--socket", SOCKET, "--sink", "--stats-interval", "0.1").statsInterval(),
                "a fraction of a second, for a series finer than a second (stress-backend-memory)");
        assertEquals(StatsFormat.TEXT, settings.statsFormat());
        assertEquals(64L << 20, settings.poolBudget());
        assertEquals(null, settings.commands(), "commands come on standard input");
        assertEquals(new PortChoice.Sink(true), parse("--socket", SOCKET, "--sink-copy").port());
        assertEquals(null, settings.capture(), "no capture");
        assertEquals(new Settings.Capture(Path.of("/tmp/a.pcap"), 512 << 10),
                parse("--socket", SOCKET, "--sink", "--pcap", "/tmp/a.pcap", "--pcap-max", "512K").capture());
    }

    @Test
    void poolBudgetInPowersOf1024AndCommandsFromAFifo(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("commands");
        new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor();
        Settings settings = parse("--socket", SOCKET, "--sink", "--pool-budget", "512K", "--commands", fifo.toString());

        assertEquals(512 << 10, settings.poolBudget());
        assertEquals(fifo, settings.commands());
    }

    @Test
    void thePollWindowAdaptsUpToItsDefaultMostOrIsFixedByALongerLeast() {
        assertEquals(Duration.ofNanos(500_000), parse("--socket", SOCKET, "--sink").device().maxPollWindow());
        NetDeviceOptions longer = parse("--socket", SOCKET, "--sink", "--poll-us", "800").device();
        assertEquals(Duration.ofNanos(800_000), longer.pollWindow());
        assertEquals(Duration.ofNanos(800_000), longer.maxPollWindow());
        assertEquals(Duration.ofNanos(2_000_000),
                parse("--socket", SOCKET, "--sink", "--poll-max-us", "2000").device().maxPollWindow());
    }

    @Test
    void everyOptionGiven() {
        Settings settings = parse("--socket", SOCKET, "--client", "--source", "1514", "--mac", "02:00:00:00:00:07",
                "--mtu", "9000", "--queues", "4", "--poll-us", "0", "--poll-max-us", "0", "--stats-interval", "5", "--stats-format", "json",
                "--negotiation-deadline-ms", "300");

        assertTrue(settings.client());
        assertEquals(new PortChoice.Source(1514), settings.port());
        assertEquals(new NetDeviceOptions(MacAddress.parse("02:00:00:00:00:07"), 9000, 4, Duration.ZERO, Duration.ZERO),
                settings.device());
        assertEquals(Duration.ofSeconds(5), settings.statsInterval());
        assertEquals(StatsFormat.JSON, settings.statsFormat());
        assertEquals(Duration.ofMillis(300), settings.negotiationDeadline());
    }

    @Test
    void eachPortOption() {
        assertEquals(new PortChoice.Tap("vnet0"), parse("--socket", SOCKET, "--tap", "vnet0").port());
        assertEquals(new PortChoice.Loopback(), parse("--socket", SOCKET, "--loopback").port());
        assertEquals(new PortChoice.Source(60), parse("--socket", SOCKET, "--source", "60").port());
    }

    @Test
    void aSwitchServesEverySocketWithAMacEachAndATapAsItsUplink() {
        Settings settings = parse("--switch", "--socket", SOCKET, "--socket", "/tmp/b.sock", "--socket", "/tmp/c.sock",
                "--mac", "02:00:00:00:00:fe");

        assertTrue(settings.switching());
        assertEquals(List.of(Path.of(SOCKET), Path.of("/tmp/b.sock"), Path.of("/tmp/c.sock")), settings.sockets());
        assertEquals(null, settings.port(), "no uplink");
        assertEquals("02:00:00:00:00:fe", settings.device(0).mac().toString());
        assertEquals("02:00:00:00:00:ff", settings.device(1).mac().toString());
        assertEquals("02:00:00:00:00:00", settings.device(2).mac().toString(), "the last byte wraps");
        assertEquals(Duration.ofSeconds(300), settings.macAgeing());
        assertEquals(Duration.ofSeconds(30), parse("--switch", "--socket", SOCKET, "--socket", "/tmp/b.sock",
                "--mac-ageing", "30").macAgeing());
        assertEquals(new PortChoice.Tap("up0"),
                parse("--switch", "--socket", SOCKET, "--socket", "/tmp/b.sock", "--tap", "up0").port());
        Settings oneGuest = parse("--switch", "--socket", SOCKET, "--tap", "up0");
        assertTrue(oneGuest.switching(), "one guest and the host");
        assertEquals(List.of(Path.of(SOCKET)), oneGuest.sockets());
        assertFalse(parse("--socket", SOCKET, "--tap", "up0").switching());;
    }

    @Test
    void socketModeInOctal() {
        assertEquals(new SocketMode(0660), parse("--socket", SOCKET, "--sink", "--socket-mode", "0660").socketMode());
        assertEquals(new SocketMode(0666), parse("--socket", SOCKET, "--sink", "--socket-mode", "666").socketMode());
    }

    @Test
    void statsFormatInAnyCase() {
        assertEquals(StatsFormat.JSON, parse("--socket", SOCKET, "--sink", "--stats-format", "JSON").statsFormat());
    }

    static Stream<Arguments> badCommandLines() {
        return Stream.of(
                refused("Invalid value for option '--mtu': 70000 is outside 68..65535", "--sink", "--mtu", "70000"),
                refused("Invalid value for option '--mtu': 67 is outside 68..65535", "--sink", "--mtu", "67"),
                refused("Invalid value for option '--mtu': 'abc' is not an int", "--sink", "--mtu", "abc"),
                refused("Invalid value for option '--mac': not a MAC address like 52:54:00:12:34:56: zz",
                        "--sink", "--mac", "zz"),
                refused("Invalid value for option '--mac': not a MAC address like 52:54:00:12:34:56: 52:54:00:12:34",
                        "--sink", "--mac", "52:54:00:12:34"),
                refused("Invalid value for option '--mac': a device address must not be multicast: 01:00:5e:00:00:01",
                        "--sink", "--mac", "01:00:5e:00:00:01"),
                refused("Invalid value for option '--queues': 0 is outside 1..256", "--sink", "--queues", "0"),
                refused("Invalid value for option '--queues': 257 is outside 1..256", "--sink", "--queues", "257"),
                refused("Invalid value for option '--poll-us': -1 is outside 0..1000000", "--sink", "--poll-us", "-1"),
                refused("Invalid value for option '--poll-us': 1000001 is outside 0..1000000",
                        "--sink", "--poll-us", "1000001"),
                refused("Invalid value for option '--poll-max-us': 99 is outside 100..1000000",
                        "--sink", "--poll-us", "100", "--poll-max-us", "99"),
                refused("Invalid value for option '--source': 59 is outside 60..65535", "--source", "59"),
                refused("Invalid value for option '--source': 65536 is outside 60..65535", "--source", "65536"),
                refused("Invalid value for option '--stats-interval': -2 is outside 0..86400",
                        "--sink", "--stats-interval", "-2"),
                refused("Invalid value for option '--stats-interval': 0.005 is under 0.01 s (0 turns the timer off)",
                        "--sink", "--stats-interval", "0.005"),
                refused("Invalid value for option '--negotiation-deadline-ms': 0 is outside 1..3600000",
                        "--sink", "--negotiation-deadline-ms", "0"),
                refused("Invalid value for option '--stats-format': 'xml' is neither text nor json",
                        "--sink", "--stats-format", "xml"),
                refused("Invalid value for option '--socket-mode': '0888' is not an octal file mode like 0600",
                        "--sink", "--socket-mode", "0888"),
                refused("Invalid value for option '--socket-mode': 01777 has bits beyond the permissions 0777",
                        "--sink", "--socket-mode", "1777"),
                refused("--socket-mode sets the mode of a socket this command creates; with --client it connects to"
                        + " QEMU's, whose mode QEMU sets", "--sink", "--client", "--socket-mode", "0660"),
                refused("--loopback, --sink are mutually exclusive (specify only one)", "--sink", "--loopback"),
                refused("a port is needed: --tap NAME, --loopback, --sink or --source SIZE (or --switch with two or"
                        + " more --socket)"),
                refused("Invalid value for option '--pool-budget': '12X' is not a size; write it as 65536, 512K, 64M"
                        + " or 1G", "--sink", "--pool-budget", "12X"),
                refused("Invalid value for option '--commands': /etc/hostname is not a named pipe; make one with"
                        + " mkfifo /etc/hostname", "--sink", "--commands", "/etc/hostname"),
                refused("Unknown option: '--bogus'", "--sink", "--bogus"),
                refused("Invalid value for option '--pcap-max': 100 holds no frame; give 1K or more", "--sink",
                        "--pcap", "/tmp/a.pcap", "--pcap-max", "100"),
                refused("--switch joins two or more ports: give --socket once for each guest, and --tap NAME for the"
                        + " host", "--switch"),
                refused("Invalid value for option '--mac-ageing': 0 is outside 1..1000000", "--sink", "--mac-ageing",
                        "0"),
                refused("--switch reaches the host through --tap NAME alone; --loopback, --sink and --source serve one"
                        + " guest", "--switch", "--socket", "/tmp/b.sock", "--loopback"),
                refused("--switch reaches the host through --tap NAME alone; --loopback, --sink and --source serve one"
                        + " guest", "--switch", "--socket", "/tmp/b.sock", "--sink"),
                refused("--switch needs a different --socket for each guest", "--switch", "--socket", SOCKET),
                refused("--switch joins at most 3 guests of 16 queue pairs, not 4", "--switch", "--socket", "/tmp/b.sock",
                        "--socket", "/tmp/c.sock", "--socket", "/tmp/d.sock", "--queues", "16"),
                refused("--socket is given 2 times; several guests need --switch", "--socket", "/tmp/b.sock",
                        "--sink"));
    }

    private static Arguments refused(String message, String... args) {
        String[] withSocket = Stream.concat(Stream.of("--socket", SOCKET), Arrays.stream(args)).toArray(String[]::new);
        return Arguments.of(message, withSocket);
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badCommandLines")
    void aBadOptionIsOneLineAndStatusTwo(String message, String[] args) throws Exception {
        assertRefused(2, "vhost-user-net: " + message + "\n", args);
    }

    @Test
    void aMissingSocketIsNamed() throws Exception {
        assertRefused(2, "vhost-user-net: a socket is needed: --socket PATH, or --fd N for one inherited\n", "--sink");
    }

    private static Settings parseActivated(int activated, String... args) {
        CommandOptions options = new CommandOptions();
        VhostUserNet.commandLine(options, System.out).parseArgs(args);
        return options.settings(activated);
    }

    @Test
    void anInheritedSocketByFdOrBySystemdsSocketActivation() {
        Settings byFd = parse("--fd", "5", "--sink");
        assertEquals(5, byFd.listenFd());
        assertEquals(List.of(Path.of("fd 5")), byFd.sockets());
        assertEquals(-1, parse("--socket", SOCKET, "--sink").listenFd());
        assertEquals(List.of(Path.of(SOCKET)), parse("--socket-path", SOCKET, "--sink").sockets(),
                "--socket-path, the vhost-user conventions' name");

        assertEquals(3, parseActivated(1, "--sink").listenFd(), "LISTEN_FDS=1: fd 3");
        assertEquals(-1, parseActivated(1, "--socket", SOCKET, "--sink").listenFd(), "--socket wins");
        assertEquals(7, parseActivated(1, "--fd", "7", "--sink").listenFd(), "--fd wins");
        ParameterException two = assertThrows(ParameterException.class, () -> parseActivated(2, "--sink"));
        assertEquals("systemd passed 2 sockets (LISTEN_FDS); this command serves one", two.getMessage());
    }

    @Test
    void fdRefusesWhatCannotGoWithAListeningSocket() throws Exception {
        assertRefused(2, "vhost-user-net: --fd and --socket each name the socket to serve: give one\n",
                "--fd", "3", "--socket", SOCKET, "--sink");
        assertRefused(2, "vhost-user-net: --fd serves on a listening socket; --client connects to one by its path"
                + " (--socket)\n", "--fd", "3", "--client", "--sink");
        assertRefused(2, "vhost-user-net: --socket-mode sets the mode of a socket this command creates; an inherited"
                + " socket's mode is its creator's\n", "--fd", "3", "--sink", "--socket-mode", "0660");
        assertRefused(2, "vhost-user-net: Invalid value for option '--fd': -1 is outside 0..2147483647\n",
                "--fd", "-1", "--sink");
    }

    @Test
    void systemdsSocketsAreThoseForThisProcess() {
        assertEquals(1, SystemdSockets.fromEnvironment(Map.of("LISTEN_FDS", "1", "LISTEN_PID", "42"), 42));
        assertEquals(0, SystemdSockets.fromEnvironment(Map.of("LISTEN_FDS", "1", "LISTEN_PID", "41"), 42),
                "a parent's, inherited with the environment");
        assertEquals(0, SystemdSockets.fromEnvironment(Map.of("LISTEN_FDS", "1"), 42));
        assertEquals(0, SystemdSockets.fromEnvironment(Map.of("LISTEN_FDS", "x", "LISTEN_PID", "42"), 42));
        assertEquals(0, SystemdSockets.fromEnvironment(Map.of(), 42));
    }

    @Test
    void printCapabilitiesIsTheConventionsJsonWhateverElseIsGiven() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, VhostUserNet.execute(new String[] {"--bogus", "--print-capabilities"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(new ByteArrayOutputStream())));
        assertEquals("{\"type\": \"net\"}\n", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aSocketPathTooLongForSunPathIsNamedWithItsLength() throws Exception {
        String path = "/tmp/" + "x".repeat(103);
        assertRefused(2, "vhost-user-net: Invalid value for option '--socket': " + path
                + " is 108 bytes long; a UNIX socket path holds at most 107\n", "--socket", path, "--sink");
    }

    @Test
    void moreQueuePairsThanThePortServesAreRefusedInThePortsWords() throws Exception {
        assertRefused(2, "vhost-user-net: Invalid value for option '--queues': a loopback serves 1 to 16 queue pairs,"
                + " not 17\n", "--socket", directory.resolve("vnet.sock").toString(), "--loopback", "--queues", "17");
    }

    @Test
    void moreQueuePairsThanASourceServesAreRefusedTheSameWay() throws Exception {
        assertRefused(2, "vhost-user-net: Invalid value for option '--queues': a source serves 1 to 16 queue pairs,"
                + " not 20\n", "--socket", directory.resolve("vnet.sock").toString(), "--source", "1514", "--queues", "20");
    }

    @Test
    void aMissingDirectoryIsStatusOne() throws Exception {
        Path socket = directory.resolve("missing/vnet.sock");
        assertRefused(1, "vhost-user-net: cannot listen on " + socket + ": the directory " + socket.getParent()
                + " does not exist\n", "--socket", socket.toString(), "--sink");
    }

    @Test
    void helpAndVersionExitZero() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, VhostUserNet.execute(new String[] {"--version"}, new PrintStream(out, true),
                new PrintStream(new ByteArrayOutputStream())));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("vhost-user-net " + Version.current() + " (JDK "),
                out.toString(StandardCharsets.UTF_8));
        out.reset();
        assertEquals(0, VhostUserNet.execute(new String[] {"--help"}, new PrintStream(out, true),
                new PrintStream(new ByteArrayOutputStream())));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("Usage: vhost-user-net"));
    }

    private static void assertRefused(int status, String expectedError, String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = VhostUserNet.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(expectedError, err.toString(StandardCharsets.UTF_8));
        assertEquals(status, exit);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }
}
