package dev.lowmem.tools.vhostusernet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.virtio.queue.DriverChain;
import dev.lowmem.virtio.vhostuser.FrontendMemory;
import dev.lowmem.virtio.vhostuser.FrontendQueue;
import dev.lowmem.virtio.vhostuser.ProtocolFeature;
import dev.lowmem.virtio.vhostuser.VhostUserFrontend;
import dev.lowmem.vmm.core.socket.UnixServerSocket;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command in a process of its own on a temporary socket, driven by our front-end as QEMU
 * drives a vhost-user-net back-end: what it prints, when, and with which exit status.
 */
class VhostUserNetProcessTest {
    private static final int RX = 0;
    private static final int TX = 1;
    private static final int QUEUE_SIZE = 256;
    private static final long RX_RINGS = 0x1000;
    private static final long TX_RINGS = 0x20000;
    private static final long TX_BUFFERS = 1 << 20;
    private static final int FRAME = 12 + 60;
    private static final int FRAMES = 10;
    /** What QEMU's virtio-net asks of a vhost-user back-end when the guest's driver takes it all. */
    private static final long QEMU_WANTS = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX,
            Feature.RING_INDIRECT_DESC, Feature.NET_MRG_RXBUF, Feature.NET_MAC, Feature.NET_MTU, Feature.NET_STATUS,
            Feature.NET_CSUM, Feature.NET_HOST_TSO4, Feature.NET_HOST_TSO6, Feature.VHOST_USER_PROTOCOL_FEATURES);
    private static final long QEMU_PROTOCOL_FEATURES = ProtocolFeature.of(ProtocolFeature.MQ,
            ProtocolFeature.REPLY_ACK, ProtocolFeature.CONFIG);
    private static final String STATS_REQUESTED = "stats requested";

    @TempDir
    Path directory;

    @Test
    void negotiatesCountsOnRequestRefusesASecondOnTheSameSocketAndReportsAtExit() throws Exception {
        Path socket = directory.resolve("vnet.sock");
        try (CommandProcess command = CommandProcess.start("--socket", socket.toString(), "--sink",
                "--stats-format", "json");
                FrontendMemory memory = FrontendMemory.create("vhost-user-net-test", 4 << 20)) {
            command.awaitStderr(line -> line.endsWith("and at exit"), "banner");
            assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(socket),
                    "the socket is owner-only");

            long acked;
            try (VhostUserFrontend frontend = VhostUserFrontend.connect(socket, Duration.ofSeconds(5));
                    FrontendQueue rx = FrontendQueue.create(memory, RX_RINGS, QEMU_WANTS, QUEUE_SIZE);
                    FrontendQueue tx = FrontendQueue.create(memory, TX_RINGS, QEMU_WANTS, QUEUE_SIZE)) {
                acked = setUpAsQemuDoes(frontend, memory, rx, tx);
                String negotiated = command.awaitStderr(line -> line.contains(" negotiated: "), "negotiated line");
                assertTrue(negotiated.endsWith(" INFO negotiated: " + Features.describe(acked)), negotiated);

                transmit(tx, memory);
                String requested = requestStats(command, "\"tx_frames\":" + FRAMES + ",");
                assertTrue(requested.startsWith("{\"time\":\""), requested);
                assertTrue(requested.contains("\"negotiated\":\"" + Features.describe(acked) + "\""), requested);
                assertTrue(requested.contains("\"pairs\":[{\"pair\":0,\"tx_frames\":" + FRAMES + ",\"tx_bytes\":"
                        + FRAMES * (FRAME - 12) + ","), requested);
                assertTrue(requested.matches(".*,\"drops\":0,\"backlog\":0,\"worker_alloc_bytes\":\\d+}]}"), requested);

                try (CommandProcess second = CommandProcess.start("--socket", socket.toString(), "--loopback")) {
                    assertEquals(1, second.awaitExit(), second.toString());
                    assertEquals(List.of("vhost-user-net: " + socket + " is in use: another backend listens on it"),
                            second.stderr());
                    assertEquals(List.of(), second.stdout());
                }
            }

            int before = command.stdoutLines();
            command.signal("TERM");
            assertEquals(143, command.awaitExit(), "exit status after SIGTERM (128 + 15)");
            List<String> atExit = command.stdout().subList(before, command.stdoutLines());
            assertEquals(1, atExit.size(), "one report at exit: " + command);
            assertTrue(atExit.getFirst().contains("\"tx_frames\":" + FRAMES + ","), atExit.getFirst());
            assertTrue(Files.notExists(socket), "the socket file is removed at exit");
        }
    }

    @Test
    void withPcapCapturesWhatTheGuestSendsIntoAFileTcpdumpReads() throws Exception {
        Path socket = directory.resolve("vnet.sock");
        Path capture = directory.resolve("vnet.pcap");
        try (CommandProcess command = CommandProcess.start("--socket", socket.toString(), "--sink",
                "--stats-format", "json", "--pcap", capture.toString(), "--pcap-max", "1M");
                FrontendMemory memory = FrontendMemory.create("vhost-user-net-test", 4 << 20)) {
            command.awaitStderr(line -> line.endsWith("and at exit"), "banner");
            try (VhostUserFrontend frontend = VhostUserFrontend.connect(socket, Duration.ofSeconds(5));
                    FrontendQueue rx = FrontendQueue.create(memory, RX_RINGS, QEMU_WANTS, QUEUE_SIZE);
                    FrontendQueue tx = FrontendQueue.create(memory, TX_RINGS, QEMU_WANTS, QUEUE_SIZE)) {
                setUpAsQemuDoes(frontend, memory, rx, tx);
                transmit(tx, memory);
                requestStats(command, "\"tx_frames\":" + FRAMES + ",");
            }
            command.signal("TERM");
            assertEquals(143, command.awaitExit());
        }
        // pcap: a 24-byte file header, then per frame a 16-byte record header (its captured length
        // at offset 8, in the writer's byte order, which the magic number gives) and the frame.
        ByteBuffer file = ByteBuffer.wrap(Files.readAllBytes(capture));
        file.order(file.getInt(0) == 0xa1b2c3d4 ? file.order() : swapped(file.order()));
        List<Integer> lengths = new ArrayList<>();
        for (int at = 24; at < file.limit(); at += 16 + file.getInt(at + 8)) {
            lengths.add(file.getInt(at + 12));
        }
        assertEquals(Collections.nCopies(FRAMES, FRAME - 12), lengths, "each frame's length on the wire");
    }

    @Test
    void withMetricsServesEveryCounterToAPrometheusScrapeAsFramesMove() throws Exception {
        Path socket = directory.resolve("vnet.sock");
        try (CommandProcess command = CommandProcess.start("--socket", socket.toString(), "--sink",
                "--metrics", "0", "--pool-budget", "2M");
                FrontendMemory memory = FrontendMemory.create("vhost-user-net-metrics-test", 4 << 20)) {
            String announced = command.awaitStderr(line -> line.contains(" INFO metrics: "), "the metrics' address");
            URI metrics = URI.create(announced.substring(announced.indexOf("http://")));
            assertTrue(metrics.toString().matches("http://127\\.0\\.0\\.1:\\d+/metrics"), metrics.toString());
            Map<String, Double> before = scrape(metrics);
            assertEquals(0.0, before.get("vhost_user_net_tx_frames_total{queue_pair=\"0\"}"), before.toString());
            assertEquals(2.0 * (1 << 20), before.get("vhost_user_net_pool_budget_bytes"), before.toString());

            try (VhostUserFrontend frontend = VhostUserFrontend.connect(socket, Duration.ofSeconds(5));
                    FrontendQueue rx = FrontendQueue.create(memory, RX_RINGS, QEMU_WANTS, QUEUE_SIZE);
                    FrontendQueue tx = FrontendQueue.create(memory, TX_RINGS, QEMU_WANTS, QUEUE_SIZE)) {
                setUpAsQemuDoes(frontend, memory, rx, tx);
                transmit(tx, memory);
                Map<String, Double> after = scrapeUntil(metrics, "vhost_user_net_tx_frames_total{queue_pair=\"0\"}", FRAMES);
                assertEquals((double) FRAMES * (FRAME - 12), after.get("vhost_user_net_tx_bytes_total{queue_pair=\"0\"}"));
                assertTrue(after.get("vhost_user_net_tx_kicks_total{queue_pair=\"0\"}") >= 1, after.toString());
                assertEquals(0.0, after.get("vhost_user_net_drops_total{queue_pair=\"0\"}"));
                assertTrue(after.get("vhost_user_net_pool_users") >= 1, "the pool's users, now that a session runs: "
                        + after);
                assertTrue(after.containsKey("vhost_user_net_worker_alloc_bytes_total{queue_pair=\"0\"}"), after.toString());
                assertTrue(after.containsKey("vhost_user_net_gc_collections_total"), after.toString());
                assertTrue(after.containsKey("vhost_user_net_gc_seconds_total"), after.toString());
                assertTrue(after.containsKey("vhost_user_net_host_drops_total"), after.toString());
            }
            HttpResponse<String> elsewhere = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(metrics.resolve("/")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, elsewhere.statusCode());
            command.signal("TERM");
            assertEquals(143, command.awaitExit());
        }
    }

    @Test
    void aMetricsAddressWithoutAPortIsABadOption() throws Exception {
        try (CommandProcess command = CommandProcess.start("--socket", directory.resolve("a.sock").toString(),
                "--sink", "--metrics", "localhost:http")) {
            assertEquals(2, command.awaitExit());
            assertEquals(List.of("vhost-user-net: Invalid value for option '--metrics': 'localhost:http' is not ADDR:PORT or"
                    + " PORT (0 to 65535), e.g. 127.0.0.1:9100"), command.stderr());
        }
    }

    @Test
    void withCtlAnswersRequestsOnItsOwnSocketAndCapturesOnRequest() throws Exception {
        Path socket = directory.resolve("vnet.sock");
        Path ctl = directory.resolve("vnet.ctl");
        Path capture = directory.resolve("requested.pcap");
        try (CommandProcess command = CommandProcess.start("--socket", socket.toString(), "--sink",
                "--ctl", ctl.toString(), "--pool-budget", "1M");
                FrontendMemory memory = FrontendMemory.create("vhost-user-net-ctl-test", 4 << 20)) {
            command.awaitStderr(line -> line.contains(" INFO ctl: " + ctl + ", mode 0600"), "the ctl socket");
            assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(ctl),
                    "the control socket is owner-only");

            try (CommandProcess start = CommandProcess.start("ctl", ctl.toString(), "pcap", "start",
                    capture.toString(), "1M")) {
                assertEquals(0, start.awaitExit(), start.toString());
                assertEquals(List.of("{\"pcap\":\"" + capture + "\",\"max_bytes\":1048576}"), start.stdout());
            }
            try (VhostUserFrontend frontend = VhostUserFrontend.connect(socket, Duration.ofSeconds(5));
                    FrontendQueue rx = FrontendQueue.create(memory, RX_RINGS, QEMU_WANTS, QUEUE_SIZE);
                    FrontendQueue tx = FrontendQueue.create(memory, TX_RINGS, QEMU_WANTS, QUEUE_SIZE)) {
                setUpAsQemuDoes(frontend, memory, rx, tx);
                transmit(tx, memory);
                String stats = ctl(ctl, "stats");
                long deadline = System.nanoTime() + CommandProcess.TIMEOUT.toNanos();
                while (!stats.contains("\"tx_frames\":" + FRAMES + ",") && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                    stats = ctl(ctl, "stats");
                }
                assertTrue(stats.matches("\\{\"time\":\"[^\"]+\",\"negotiated\":\"[A-Z0-9_ |]+\",.*\\}\n"), stats);
                assertTrue(stats.contains("\"pairs\":[{\"pair\":0,\"tx_frames\":" + FRAMES + ",\"tx_bytes\":"
                        + FRAMES * (FRAME - 12) + ","), stats);
                assertTrue(stats.contains(",\"pool_budget_bytes\":1048576,"), stats);
            }

            assertEquals("{\"pool_budget_bytes\":67108864,\"was_bytes\":1048576}\n", ctl(ctl, "pool-budget 64M"));
            assertTrue(ctl(ctl, "stats").contains(",\"pool_budget_bytes\":67108864,"), "the budget applied");
            assertEquals("{\"pcap\":\"" + capture + "\",\"frames\":" + FRAMES + ",\"bytes\":"
                    + (24 + FRAMES * (16 + FRAME - 12)) + ",\"capped\":false}\n", ctl(ctl, "pcap stop"));
            List<String> read = tcpdump(capture);
            assertEquals(FRAMES, read.size(), "tcpdump -r reads every frame: " + read);
            assertTrue(read.getFirst().contains("ff:ff:ff:ff:ff:ff"), "to the broadcast address: " + read);

            // Bad requests: an error reply, never a dropped connection; the backend serves on.
            assertEquals("{\"error\":\"unknown command 'grow'; " + ControlCommands.HELP + "\"}\n", ctl(ctl, "grow 1G"));
            assertEquals("{\"error\":\"an empty request; " + ControlCommands.HELP + "\"}\n", ctl(ctl, ""));
            assertEquals("{\"error\":\"a request longer than 4096 bytes\"}\n",
                    CtlCommand.send(ctl, "x".repeat(10_000)));
            assertEquals("{\"error\":\"pcap stop: no capture runs\"}\n", ctl(ctl, "pcap stop"));
            try (CommandProcess refused = CommandProcess.start("ctl", ctl.toString(), "pool-budget", "lots")) {
                assertEquals(1, refused.awaitExit(), refused.toString());
                assertEquals(List.of("{\"error\":\"pool-budget: 'lots' is not a size; write it as 65536, 512K, 64M"
                        + " or 1G\"}"), refused.stdout());
            }
            assertTrue(ctl(ctl, "help").startsWith("{\"commands\":"), "still serving");

            command.signal("TERM");
            assertEquals(143, command.awaitExit());
            assertTrue(Files.notExists(ctl), "the control socket is removed at exit");
        }
        try (CommandProcess nobody = CommandProcess.start("ctl", ctl.toString(), "stats")) {
            assertEquals(1, nobody.awaitExit());
            assertEquals(1, nobody.stderr().size(), nobody.toString());
            assertTrue(nobody.stderr().getFirst().startsWith("vhost-user-net ctl: cannot reach the back-end at " + ctl
                    + ": "), nobody.toString());
        }
    }

    /** One request over the control socket, as vhost-user-net ctl sends it; the reply. */
    private static String ctl(Path socket, String request) throws Exception {
        return CtlCommand.send(socket, request + "\n");
    }

    /** What tcpdump -r reads in {@code capture}, a line a frame; tcpdump is needed, not optional. */
    private static List<String> tcpdump(Path capture) throws Exception {
        Path tcpdump = Path.of("/usr/bin/tcpdump");
        assertTrue(Files.isExecutable(tcpdump), "needs tcpdump: tools/bin/lib/install-deps installs it");
        Process process = new ProcessBuilder(tcpdump.toString(), "-r", capture.toString(), "-nn", "-e")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        List<String> lines = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertEquals(0, process.waitFor(), "tcpdump -r " + capture + ": " + lines);
        return lines;
    }

    /**
     * Scrapes until the sample {@code key} is {@code expected}: a worker publishes its counters
     * after the used ring, so the first scrape may be a burst behind.
     */
    private static Map<String, Double> scrapeUntil(URI metrics, String key, long expected) throws Exception {
        long deadline = System.nanoTime() + CommandProcess.TIMEOUT.toNanos();
        Map<String, Double> samples = scrape(metrics);
        while (samples.getOrDefault(key, 0.0) < expected && System.nanoTime() < deadline) {
            Thread.sleep(50);
            samples = scrape(metrics);
        }
        assertEquals((double) expected, samples.get(key), key + " in " + samples);
        return samples;
    }

    /** Each sample of a scrape, "name{labels}" to its value; checks the content type. */
    private static Map<String, Double> scrape(URI metrics) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(metrics).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("text/plain; version=0.0.4; charset=utf-8",
                response.headers().firstValue("Content-Type").orElse(""));
        Map<String, Double> samples = new HashMap<>();
        for (String line : response.body().split("\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                int space = line.lastIndexOf(' ');
                samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
            }
        }
        return samples;
    }

    private static ByteOrder swapped(ByteOrder order) {
        return order == ByteOrder.BIG_ENDIAN ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
    }

    @Test
    void replacesAStaleSocketSaysSoAndPrintsATableAtExit() throws Exception {
        Path socket = directory.resolve("stale.sock");
        // A socket file whose listener is gone, as a backend that was killed leaves it.
        ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket)).close();
        assertTrue(Files.exists(socket));

        try (CommandProcess command = CommandProcess.start("--socket", socket.toString(), "--loopback",
                "--stats-interval", "1")) {
            command.awaitStderr(line -> line.endsWith(" INFO replaced " + socket
                    + ", a socket file left by a backend that is gone"), "the stale socket replaced");
            String heading = command.awaitStdout(0, line -> line.startsWith("stats at "), "a table on the interval");
            int at = command.stdout().indexOf(heading);
            command.awaitStdout(at + 3, line -> true, "the table's rows");
            assertEquals(List.of(
                    "pair dir frames bytes kicks interrupts port_full starved starved_ms held backlog drops",
                    "   0 tx       0     0     0          0         0       -          -    -       - -",
                    "   0 rx       0     0     0          0         -       0          0    0       0 -"),
                    command.stdout().subList(at + 1, at + 4));

            command.signal("INT");
            assertEquals(130, command.awaitExit(), "exit status after SIGINT (128 + 2)");
            List<String> out = command.stdout();
            assertTrue(out.get(out.size() - 7).startsWith("stats at "), "a table at exit: " + command);
            assertTrue(out.getLast().startsWith("heap: workers allocated "), "the heap line ends it: " + command);
        }
    }

    @Test
    void asAClientConnectsToQemusSocketAndAgainAfterItGoes() throws Exception {
        Path socket = directory.resolve("qemu.sock");
        try (UnixServerSocket qemu = UnixServerSocket.listen(socket);
                CommandProcess command = CommandProcess.start("--socket", socket.toString(), "--client", "--sink");
                FrontendMemory memory = FrontendMemory.create("vhost-user-net-client-test", 4 << 20)) {
            for (int connection = 1; connection <= 2; connection++) {
                try (VhostUserFrontend frontend = VhostUserFrontend.over(qemu.accept());
                        FrontendQueue rx = FrontendQueue.create(memory, RX_RINGS, QEMU_WANTS, QUEUE_SIZE);
                        FrontendQueue tx = FrontendQueue.create(memory, TX_RINGS, QEMU_WANTS, QUEUE_SIZE)) {
                    int from = command.stderrLines();
                    long acked = setUpAsQemuDoes(frontend, memory, rx, tx);
                    command.awaitStderr(from, line -> line.endsWith(" INFO negotiated: " + Features.describe(acked)),
                            "negotiation on connection " + connection);
                }
            }
            assertTrue(command.stderr().stream().anyMatch(line -> line.endsWith(" INFO socket: " + socket
                    + ", connecting to the front-end listening there, again 1 s after it goes; a front-end has 5000 ms to"
                    + " send SET_OWNER")), command.toString());

            command.signal("TERM");
            assertEquals(143, command.awaitExit());
        }
    }

    @Test
    void asASwitchServesAGuestOnEachSocketAndCountsEverySwitchPort() throws Exception {
        Path a = directory.resolve("a.sock");
        Path b = directory.resolve("b.sock");
        try (CommandProcess command = CommandProcess.start("--switch", "--socket", a.toString(), "--socket",
                b.toString(), "--stats-format", "json", "--metrics", "0");
                FrontendMemory memoryA = FrontendMemory.create("switch-guest-a", 4 << 20);
                FrontendMemory memoryB = FrontendMemory.create("switch-guest-b", 4 << 20)) {
            command.awaitStderr(line -> line.endsWith("and at exit"), "banner");
            assertTrue(command.stderr().stream().anyMatch(line -> line.endsWith(" INFO port: switch port 1 (b.sock),"
                    + " 1 queue pair, MTU 1500, MAC 52:54:00:12:34:57, poll window 50 to 500 us")), command.toString());
            try (VhostUserFrontend frontendA = VhostUserFrontend.connect(a, Duration.ofSeconds(5));
                    FrontendQueue rxA = FrontendQueue.create(memoryA, RX_RINGS, QEMU_WANTS, QUEUE_SIZE);
                    FrontendQueue txA = FrontendQueue.create(memoryA, TX_RINGS, QEMU_WANTS, QUEUE_SIZE);
                    VhostUserFrontend frontendB = VhostUserFrontend.connect(b, Duration.ofSeconds(5));
                    FrontendQueue rxB = FrontendQueue.create(memoryB, RX_RINGS, QEMU_WANTS, QUEUE_SIZE);
                    FrontendQueue txB = FrontendQueue.create(memoryB, TX_RINGS, QEMU_WANTS, QUEUE_SIZE)) {
                long ackedA = setUpAsQemuDoes(frontendA, memoryA, rxA, txA);
                setUpAsQemuDoes(frontendB, memoryB, rxB, txB);
                assertEquals(Features.of(Feature.NET_CSUM, Feature.NET_HOST_TSO4),
                        ackedA & Features.of(Feature.NET_CSUM, Feature.NET_HOST_TSO4),
                        "a switch port offers the offloads it hands on to guests that negotiated them");
                postRx(rxB, memoryB);

                transmit(txA, memoryA);
                awaitUsed(rxB);
                String requested = requestStats(command, "\"frames_out\":" + FRAMES + ",");
                assertTrue(requested.contains("\"devices\":[{\"device\":\"a.sock\",\"negotiated\":"), requested);
                assertTrue(requested.contains("\"switch_ports\":[{\"port\":0,\"name\":\"a.sock\",\"frames_in\":"
                        + FRAMES + ",\"bytes_in\":" + FRAMES * (FRAME - 12) + ",\"flooded\":" + FRAMES + ","), requested);
                assertTrue(requested.contains("{\"port\":1,\"name\":\"b.sock\",\"frames_in\":0,\"bytes_in\":0,"
                        + "\"flooded\":0,\"frames_out\":" + FRAMES + ","), requested);
                assertTrue(requested.endsWith(",\"drops\":0,\"inbox\":0}]}"), requested);

                String announced = command.awaitStderr(line -> line.contains(" INFO metrics: "), "the metrics' address");
                Map<String, Double> scraped = scrapeUntil(URI.create(announced.substring(announced.indexOf("http://"))),
                        "vhost_user_net_rx_frames_total{device=\"b.sock\",queue_pair=\"0\"}", FRAMES);
                assertEquals((double) FRAMES, scraped.get("vhost_user_net_switch_port_frames_in_total{name=\"a.sock\",port=\"0\"}"),
                        scraped.toString());
                assertEquals((double) FRAMES, scraped.get("vhost_user_net_switch_port_frames_out_total{name=\"b.sock\",port=\"1\"}"));
                assertEquals((double) FRAMES, scraped.get("vhost_user_net_tx_frames_total{device=\"a.sock\",queue_pair=\"0\"}"));
            }
            command.signal("TERM");
            assertEquals(143, command.awaitExit());
        }
    }

    @Test
    void aSwitchWithOneSocketIsABadOption() throws Exception {
        try (CommandProcess command = CommandProcess.start("--switch", "--socket",
                directory.resolve("a.sock").toString())) {
            assertEquals(2, command.awaitExit());
            assertEquals(List.of("vhost-user-net: --switch joins two or more ports: give --socket once for each guest,"
                    + " and --tap NAME for the host"),
                    command.stderr());
        }
    }

    @Test
    void printsItsCapabilitiesAsTheVhostUserConventionsAskAndExits() throws Exception {
        try (CommandProcess command = CommandProcess.start("--print-capabilities", "--socket", "/nonexistent/x.sock")) {
            assertEquals(0, command.awaitExit());
            assertEquals(List.of("{\"type\": \"net\"}"), command.stdout());
            assertEquals(List.of(), command.stderr());
        }
    }

    @Test
    void underSystemdSocketActivationServesTheSocketItIsHanded() throws Exception {
        Path socket = directory.resolve("activated.sock");
        // systemd-socket-activate listens, and on the first connection execs the command with the
        // listening socket as fd 3, LISTEN_FDS=1 and LISTEN_PID its own pid, as a .socket unit does.
        servesAnInheritedSocket(socket, List.of(systemdSocketActivate(), "--listen=" + socket), "--sink", "--stats-format", "json");
    }

    @Test
    void withFdServesTheListeningSocketItInherits() throws Exception {
        Path socket = directory.resolve("inherited.sock");
        // The same socket as fd 3 with systemd's variables removed: only --fd 3 names it.
        servesAnInheritedSocket(socket, List.of(systemdSocketActivate(), "--listen=" + socket,
                "/usr/bin/env", "-u", "LISTEN_FDS", "-u", "LISTEN_PID", "-u", "LISTEN_FDNAMES"), "--fd", "3", "--sink",
                "--stats-format", "json");
    }

    @Test
    void withFdRefusesADescriptorThatIsNotAListeningSocket() throws Exception {
        // Standard input, a pipe from ProcessBuilder.
        try (CommandProcess command = CommandProcess.start("--fd", "0", "--sink")) {
            assertEquals(1, command.awaitExit(), command.toString());
            assertEquals(List.of("vhost-user-net: cannot serve on --fd 0: fd 0 is not a socket"),
                    command.stderr().stream().filter(line -> line.startsWith("vhost-user-net:")).toList());
        }
    }

    private void servesAnInheritedSocket(Path socket, List<String> launcher, String... args) throws Exception {
        try (CommandProcess command = CommandProcess.startUnder(launcher, args);
                FrontendMemory memory = FrontendMemory.create("vhost-user-net-fd-test", 4 << 20)) {
            command.awaitStderr(line -> line.startsWith("Listening on"), "systemd-socket-activate listening");
            try (VhostUserFrontend frontend = VhostUserFrontend.connect(socket, Duration.ofSeconds(5));
                    FrontendQueue rx = FrontendQueue.create(memory, RX_RINGS, QEMU_WANTS, QUEUE_SIZE);
                    FrontendQueue tx = FrontendQueue.create(memory, TX_RINGS, QEMU_WANTS, QUEUE_SIZE)) {
                command.awaitStderr(line -> line.endsWith("and at exit"), "banner");
                assertTrue(command.stderr().stream().anyMatch(line -> line.endsWith(" INFO socket: fd 3, inherited,"
                        + " listening; a front-end has 5000 ms to send SET_OWNER")), command.toString());
                long acked = setUpAsQemuDoes(frontend, memory, rx, tx);
                command.awaitStderr(line -> line.endsWith(" INFO negotiated: " + Features.describe(acked)),
                        "negotiation");
                transmit(tx, memory);
                requestStats(command, "\"tx_frames\":" + FRAMES + ",");
            }
            command.signal("TERM");
            assertEquals(143, command.awaitExit(), command.toString());
            assertTrue(Files.exists(socket), "the socket file is its creator's to remove");
        }
    }

    private static String systemdSocketActivate() {
        Path tool = Path.of("/usr/bin/systemd-socket-activate");
        assertTrue(Files.isExecutable(tool), "needs systemd-socket-activate: apt-get install -y systemd");
        return tool.toString();
    }

    /** QEMU's order: owner, features, protocol features, queue count, features acked, memory, rings, enable. */
    private static long setUpAsQemuDoes(VhostUserFrontend frontend, FrontendMemory memory, FrontendQueue rx,
            FrontendQueue tx) throws Exception {
        frontend.setOwner();
        long offered = frontend.getFeatures();
        frontend.setProtocolFeatures(frontend.getProtocolFeatures() & QEMU_PROTOCOL_FEATURES);
        assertEquals(1, frontend.getQueueNum(), "queue pairs, as QEMU compares it with queues=");
        long acked = offered & QEMU_WANTS;
        frontend.setFeatures(acked);
        frontend.setMemTable(memory.regions(1));
        rx.setUp(frontend, RX, 0);
        tx.setUp(frontend, TX, 0);
        frontend.setVringEnable(RX, true);
        frontend.setVringEnable(TX, true);
        return acked & ~Feature.VHOST_USER_PROTOCOL_FEATURES.mask();
    }

    /** {@link #FRAMES} frames of 60 bytes behind a zeroed virtio_net_hdr; returns once all are used. */
    private static void transmit(FrontendQueue tx, FrontendMemory memory) throws Exception {
        DriverChain chain = new DriverChain(1);
        for (int i = 0; i < FRAMES; i++) {
            long buffer = TX_BUFFERS + (long) i * FRAME;
            memory.bytes(buffer, FRAME).fill((byte) 0);
            memory.bytes(buffer + 12, 6).fill((byte) 0xFF);
            assertTrue(tx.driver().add(chain.clear().readable(buffer, FRAME), false) >= 0, "room in the TX ring");
        }
        tx.publish();
        int used = 0;
        long deadline = System.nanoTime() + CommandProcess.TIMEOUT.toNanos();
        while (used < FRAMES) {
            if (tx.driver().takeUsed() >= 0) {
                used++;
            } else if (System.nanoTime() > deadline) {
                throw new AssertionError(used + " of " + FRAMES + " TX chains came back");
            } else {
                Thread.sleep(1);
            }
        }
    }

    /** Posts {@link #FRAMES} receive buffers of 2 KiB. */
    private static void postRx(FrontendQueue rx, FrontendMemory memory) throws Exception {
        DriverChain chain = new DriverChain(1);
        for (int i = 0; i < FRAMES; i++) {
            assertTrue(rx.driver().add(chain.clear().writable(TX_BUFFERS + (long) i * 2048, 2048), false) >= 0,
                    "room in the RX ring");
        }
        rx.publish();
    }

    /** Waits until the back-end has filled every buffer {@link #postRx} posted, each with a frame. */
    private static void awaitUsed(FrontendQueue rx) throws Exception {
        int used = 0;
        long deadline = System.nanoTime() + CommandProcess.TIMEOUT.toNanos();
        while (used < FRAMES) {
            if (rx.driver().takeUsed() >= 0) {
                assertEquals(FRAME, rx.driver().usedLength(), "a frame with its 12-byte header");
                used++;
            } else if (System.nanoTime() > deadline) {
                throw new AssertionError(used + " of " + FRAMES + " RX buffers came back");
            } else {
                Thread.sleep(1);
            }
        }
    }

    /**
     * Asks for stats with SIGUSR1 until a line has {@code expected}: a worker publishes its
     * counters after the used ring, so the first line may be a burst behind.
     */
    private static String requestStats(CommandProcess command, String expected) throws Exception {
        long deadline = System.nanoTime() + CommandProcess.TIMEOUT.toNanos();
        while (true) {
            int from = command.stdoutLines();
            command.signal("USR1");
            String line = command.awaitStdout(from, l -> l.startsWith("{"), STATS_REQUESTED);
            if (line.contains(expected) || System.nanoTime() > deadline) {
                return line;
            }
            Thread.sleep(50);
        }
    }
}
