package dev.lowmem.tools.vhostusernet;

import dev.lowmem.tools.OptionChecks;
import dev.lowmem.devices.net.MacAddress;
import dev.lowmem.devices.net.NetDeviceOptions;
import dev.lowmem.devices.port.SourcePort;
import dev.lowmem.devices.port.sw.L2Switch;
import dev.lowmem.devices.port.sw.MacTable;
import dev.lowmem.virtio.vhostuser.VhostUserBackend;
import dev.lowmem.vmm.core.pool.PoolConfig;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The command line of {@code vhost-user-net}, as picocli fills it in; {@link #settings()} checks
 * the values together and names the option and the value it refuses.
 */
@Command(name = "vhost-user-net", mixinStandardHelpOptions = true, versionProvider = Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = {
            "Serves a virtio-net device to QEMU (or any vhost-user front-end) over a UNIX socket and connects"
                + " the guest's NIC to a host-side port.",
            "",
            "Log lines (start-up, negotiation, connections) go to standard error; the counters go to"
                + " standard output: every --stats-interval seconds, whenever the process gets SIGUSR1"
                + " (kill -USR1 PID), and once at exit (SIGINT, SIGTERM)."},
        footer = {
            "",
            "QEMU connects with:",
            "  -object memory-backend-memfd,id=mem,size=1G,share=on -numa node,memdev=mem",
            "  -chardev socket,id=c0,path=PATH -netdev vhost-user,id=n0,chardev=c0",
            "  -device virtio-net-pci,netdev=n0",
            "(with --client: -chardev socket,id=c0,path=PATH,server=on)",
            "",
            "A running back-end started with --ctl SOCKET answers vhost-user-net ctl SOCKET REQUEST"
                + " (vhost-user-net ctl --help lists the requests); one started with --metrics ADDR:PORT is"
                + " scraped at http://ADDR:PORT/metrics.",
            "",
            "Exit status: 0 after --help or --version, 1 when start-up fails, 2 for a bad option;"
                + " 130 or 143 after SIGINT or SIGTERM."})
final class CommandOptions {
    static final long MAX_POLL_MICROS = 1_000_000;
    /** A capture file's header and a 60-byte frame's record, rounded up. */
    private static final long MIN_PCAP_BYTES = 1024;
    static final int MAX_STATS_INTERVAL_SECONDS = 86_400;
    // a hundred lines a second at most: a finer timer would spend the back-end's CPU printing
    static final BigDecimal MIN_STATS_INTERVAL_SECONDS = new BigDecimal("0.01");
    static final long MAX_NEGOTIATION_DEADLINE_MS = 3_600_000;
    static final long MAX_MAC_AGEING_SECONDS = 1_000_000;

    @Spec
    private CommandSpec spec;

    @Option(names = {"--socket", "--socket-path"}, paramLabel = "PATH",
            description = "The vhost-user socket: the path to listen on, or with --client the path QEMU listens on."
                    + " With --switch, once per guest. Needed unless --fd, or systemd's socket activation, gives one.")
    private List<Path> sockets = List.of();

    @Option(names = "--fd", paramLabel = "N", description = "Serve on the listening UNIX socket open as descriptor N,"
            + " inherited from the parent (a service manager's), instead of --socket. Under systemd's socket"
            + " activation (LISTEN_FDS=1 for this process) fd " + SystemdSockets.FIRST_FD + " is taken without it.")
    private Integer fd;

    @Option(names = "--print-capabilities", description = "Print the capabilities as the vhost-user spec's back-end"
            + " program conventions ask ({\"type\": \"net\"}, JSON) and exit; the other options are ignored.")
    private boolean printCapabilities;

    @Option(names = "--switch", description = "Serve a device on each --socket and join them by a learning switch inside"
            + " this process; --tap NAME adds the host as one more switch port (two ports at least). Device i has"
            + " --mac with i added to its last byte.")
    private boolean switching;

    @Option(names = "--client",
            description = "Connect to PATH (QEMU with server=on) and connect again whenever the front-end goes away,"
                    + " instead of listening.")
    private boolean client;

    @Option(names = "--negotiation-deadline-ms", paramLabel = "MILLIS", description = "How long a front-end has from"
            + " connecting to send SET_OWNER (QEMU and DPDK send it among their first messages) before its connection"
            + " is closed, so that a silent or slow one cannot keep others out; 1 to 3600000 (default: ${DEFAULT-VALUE}).")
    private long negotiationDeadlineMillis = VhostUserBackend.DEFAULT_NEGOTIATION_DEADLINE.toMillis();

    @Option(names = "--mac-ageing", paramLabel = "SECONDS", description = "With --switch: how long a MAC that sends"
            + " nothing stays learned, 1 to 1000000 (default: ${DEFAULT-VALUE}, as a Linux bridge).")
    private long macAgeingSeconds = MacTable.DEFAULT_AGEING.toSeconds();

    @ArgGroup(exclusive = true, multiplicity = "0..1", heading = "%nThe host-side port (exactly one; with --switch,"
            + " --tap or none):%n")
    private PortOptions port;

    @Option(names = "--mac", paramLabel = "MAC", description = "The NIC's address (default: ${DEFAULT-VALUE}).")
    private MacAddress mac = NetDeviceOptions.DEFAULT_MAC;

    @Option(names = "--mtu", paramLabel = "BYTES", description = "The MTU the guest is told, 68 to 65535"
            + " (default: ${DEFAULT-VALUE}).")
    private int mtu = NetDeviceOptions.DEFAULT_MTU;

    @Option(names = "--queues", paramLabel = "N", description = "RX/TX queue pairs, each with its own worker thread"
            + " (default: ${DEFAULT-VALUE}); QEMU needs queues=N on -netdev to match.")
    private int queues = 1;

    @Option(names = "--poll-us", paramLabel = "MICROS", description = "How long a worker polls after its last"
            + " frame before it sleeps, at the least, 0 to 1000000 (default: ${DEFAULT-VALUE}).")
    private long pollMicros = NetDeviceOptions.DEFAULT_POLL_WINDOW.toNanos() / 1000;

    @Option(names = "--poll-max-us", paramLabel = "MICROS", description = "The most that window grows to when"
            + " the traffic shows that polling longer saves the worker's sleep and wake-up (a host's replies to"
            + " a guest's requests), --poll-us to 1000000; --poll-us's value fixes the window"
            + " (default: ${DEFAULT-VALUE}, or --poll-us if that is more).")
    private long pollMaxMicros = NetDeviceOptions.DEFAULT_MAX_POLL_WINDOW.toNanos() / 1000;

    @Option(names = "--pool-budget", paramLabel = "SIZE", description = "The most memory the packet pool may take"
            + " for frames held while a guest's RX ring is empty, e.g. 512K, 64M; 0 holds none (default: 64M)."
            + " The command 'pool-budget SIZE' changes it while running (see --commands).")
    private String poolBudget = ByteSize.format(PoolConfig.defaults().budgetBytes());

    @Option(names = "--pcap", paramLabel = "FILE", description = "Capture every frame that crosses the devices, both"
            + " ways, into FILE in pcap format (tcpdump -r, Wireshark); off by default.")
    private Path pcap;

    @Option(names = "--pcap-max", paramLabel = "SIZE", description = "The most the capture may hold, e.g. 512K, 1G;"
            + " it stops there (default: 64M).")
    private String pcapMax = "64M";

    @Option(names = "--commands", paramLabel = "FIFO", description = "Read the requests --ctl answers (pool-budget"
            + " SIZE, stats, pcap ...), one a line, from the named pipe FIFO (mkfifo FIFO first) rather than from"
            + " standard input, the replies logged: for scripts, echo 'pool-budget 64M' > FIFO.")
    private Path commands;

    @Option(names = "--metrics", paramLabel = "ADDR:PORT", description = "Serve every counter in the Prometheus text"
            + " format at http://ADDR:PORT" + MetricsServer.PATH + "; PORT alone listens on 127.0.0.1 (port 0: one the"
            + " system picks, which the log names).")
    private String metrics;

    @Option(names = "--ctl", paramLabel = "SOCKET", description = "Listen for requests on the UNIX socket SOCKET (mode"
            + " 0600), each answered in JSON: vhost-user-net ctl SOCKET stats (or pool-budget SIZE, pcap start FILE"
            + " [SIZE], pcap stop, help; ctl --help says more).")
    private Path ctl;

    @Option(names = "--stats-interval", paramLabel = "SECONDS", description = "Print the counters every SECONDS"
            + " seconds, a fraction down to 0.01 (0.1: ten lines a second); 0 for only on SIGUSR1 and at exit"
            + " (default: ${DEFAULT-VALUE}).")
    private BigDecimal statsIntervalSeconds = BigDecimal.ZERO;

    @Option(names = "--stats-format", paramLabel = "FORMAT", description = "text (a table) or json (one object per"
            + " line) (default: ${DEFAULT-VALUE}).")
    private StatsFormat statsFormat = StatsFormat.TEXT;

    @Option(names = "--socket-mode", paramLabel = "MODE", description = "The listening socket's file mode, in octal"
            + " (default: ${DEFAULT-VALUE}: only this user may connect).")
    private SocketMode socketMode = SocketMode.OWNER_ONLY;

    /** The port options; picocli lets exactly one be given. */
    static final class PortOptions {
        @Option(names = "--tap", paramLabel = "NAME", description = "A TAP device: the guest meets the host's network"
                + " stack (needs access to /dev/net/tun).")
        private String tap;

        @Option(names = "--loopback", description = "Send what the guest transmits back to it.")
        private boolean loopback;

        @Option(names = "--sink", description = "Count and drop what the guest transmits; give it nothing.")
        private boolean sink;

        @Option(names = "--sink-copy", description = "As --sink, reading each frame into a buffer first, as DPDK's"
                + " testpmd rxonly copies each into an mbuf.")
        private boolean sinkCopy;

        @Option(names = "--source", paramLabel = "SIZE", description = "Give the guest generated Ethernet frames of"
                + " SIZE bytes, 60 to 65535, as fast as it takes them; drop what it transmits.")
        private Integer sourceFrameSize;
    }


    /** What --print-capabilities prints: the vhost-user.json schema's VHostUserBackendCapabilities for "net". */
    static final String CAPABILITIES = "{\"type\": \"net\"}";

    /** The options checked together, systemd's socket activation seen in this process's environment. */
    Settings settings() {
        return settings(SystemdSockets.fromEnvironment(System.getenv(), ProcessHandle.current().pid()));
    }

    /**
     * The options checked together.
     *
     * @param activated how many sockets systemd passed this process from fd 3 (0 for none)
     */
    Settings settings(int activated) {
        int listenFd = listenFd(activated);
        if (listenFd >= 0) {
            sockets = List.of(Path.of("fd " + listenFd));
        }
        for (Path socket : listenFd >= 0 ? List.<Path>of() : sockets) {
            checks().socketPath("--socket", socket);
        }
        checkSwitch();
        checks().range("--mtu", mtu, NetDeviceOptions.MIN_MTU, NetDeviceOptions.MAX_MTU);
        checks().range("--queues", queues, 1, NetDeviceOptions.MAX_QUEUE_PAIRS);
        checks().range("--poll-us", pollMicros, 0, MAX_POLL_MICROS);
        long maxPollMicros = spec.commandLine().getParseResult().hasMatchedOption("--poll-max-us") ? pollMaxMicros
                : Math.max(pollMaxMicros, pollMicros);
        checks().range("--poll-max-us", maxPollMicros, pollMicros, MAX_POLL_MICROS);
        Duration statsInterval = statsInterval();
        checks().range("--negotiation-deadline-ms", negotiationDeadlineMillis, 1, MAX_NEGOTIATION_DEADLINE_MS);
        checks().range("--mac-ageing", macAgeingSeconds, 1, MAX_MAC_AGEING_SECONDS);
        long budget;
        try {
            budget = ByteSize.parse(poolBudget);
        } catch (IllegalArgumentException e) {
            throw checks().invalid("--pool-budget", e.getMessage());
        }
        Settings.Capture capture = capture();
        if ((client || listenFd >= 0) && spec.commandLine().getParseResult().hasMatchedOption("--socket-mode")) {
            throw new ParameterException(spec.commandLine(), "--socket-mode sets the mode of a socket this command"
                    + " creates; " + (client ? "with --client it connects to QEMU's, whose mode QEMU sets"
                            : "an inherited socket's mode is its creator's"));
        }
        if (ctl != null) {
            checks().socketPath("--ctl", ctl);
        }
        if (commands != null && !isFifo(commands)) {
            throw checks().invalid("--commands", commands + " is not a named pipe; make one with mkfifo " + commands);
        }
        NetDeviceOptions device = new NetDeviceOptions(mac, mtu, queues, Duration.ofNanos(pollMicros * 1000),
                Duration.ofNanos(maxPollMicros * 1000));
        return new Settings(sockets, listenFd, switching, client, socketMode, Duration.ofMillis(negotiationDeadlineMillis),
                portChoice(), device, budget, commands, statsInterval, statsFormat,
                Duration.ofSeconds(macAgeingSeconds), capture, metricsAddress(), ctl);
    }

    /** --stats-interval, checked: whole milliseconds, so that the timer's period is never 0. */
    private Duration statsInterval() {
        if (statsIntervalSeconds.signum() < 0 || statsIntervalSeconds.compareTo(BigDecimal.valueOf(MAX_STATS_INTERVAL_SECONDS)) > 0) {
            throw checks().invalid("--stats-interval", statsIntervalSeconds.toPlainString() + " is outside 0.."
                    + MAX_STATS_INTERVAL_SECONDS);
        }
        if (statsIntervalSeconds.signum() > 0 && statsIntervalSeconds.compareTo(MIN_STATS_INTERVAL_SECONDS) < 0) {
            throw checks().invalid("--stats-interval", statsIntervalSeconds.toPlainString() + " is under "
                    + MIN_STATS_INTERVAL_SECONDS.toPlainString() + " s (0 turns the timer off)");
        }
        return Duration.ofMillis(statsIntervalSeconds.movePointRight(3).longValue());
    }

    /** --metrics, checked; null without it. */
    private InetSocketAddress metricsAddress() {
        if (metrics == null) {
            return null;
        }
        try {
            return MetricsServer.address(metrics);
        } catch (IllegalArgumentException e) {
            throw checks().invalid("--metrics", e.getMessage());
        }
    }

    /** --pcap and --pcap-max, checked; null without --pcap. */
    private Settings.Capture capture() {
        long max;
        try {
            max = ByteSize.parse(pcapMax);
        } catch (IllegalArgumentException e) {
            throw checks().invalid("--pcap-max", e.getMessage());
        }
        if (max < MIN_PCAP_BYTES) {
            throw checks().invalid("--pcap-max", pcapMax + " holds no frame; give 1K or more");
        }
        return pcap == null ? null : new Settings.Capture(pcap, max);
    }

    /**
     * The inherited listening socket to serve: --fd N, else fd 3 under socket activation when no
     * --socket is given; -1 for none (serve on --socket).
     */
    private int listenFd(int activated) {
        if (fd != null) {
            checks().range("--fd", fd, 0, Integer.MAX_VALUE);
            if (!sockets.isEmpty()) {
                throw problem("--fd and --socket each name the socket to serve: give one");
            }
            if (client) {
                throw problem("--fd serves on a listening socket; --client connects to one by its path (--socket)");
            }
            if (switching) {
                throw problem("--switch serves a socket per guest, each by --socket PATH; --fd gives one");
            }
            return fd;
        }
        if (!sockets.isEmpty()) {
            return -1;
        }
        if (activated == 1 && !client && !switching) {
            return SystemdSockets.FIRST_FD;
        }
        if (activated > 1) {
            throw problem("systemd passed " + activated + " sockets (LISTEN_FDS); this command serves one");
        }
        throw problem("a socket is needed: --socket PATH, or --fd N for one inherited");
    }

    /** S_IFIFO in the file's mode (inode(7)). */
    private static boolean isFifo(Path path) {
        try {
            return ((int) Files.getAttribute(path, "unix:mode") & 0170000) == 0010000;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** A switch joins two or more devices, and reaches the host only through a TAP. */
    private void checkSwitch() {
        if (!switching) {
            if (sockets.size() > 1) {
                throw problem("--socket is given " + sockets.size() + " times; several guests need --switch");
            }
            if (port == null) {
                throw problem("a port is needed: --tap NAME, --loopback, --sink or --source SIZE (or --switch with"
                        + " two or more --socket)");
            }
            return;
        }
        if (port != null && port.tap == null) {
            throw problem("--switch reaches the host through --tap NAME alone; --loopback, --sink and --source"
                    + " serve one guest");
        }
        // One guest and the host make a switch too: a multi-queue guest behind the uplink, say.
        if (sockets.size() + (port == null ? 0 : 1) < 2) {
            throw problem("--switch joins two or more ports: give --socket once for each guest, and --tap NAME for"
                    + " the host");
        }
        // Every guest's pairs and the uplink's one queue.
        int mostGuests = (L2Switch.MAX_QUEUES - 1) / queues;
        if (sockets.size() > mostGuests) {
            throw problem("--switch joins at most " + mostGuests + " guests of " + queues + " queue pair"
                    + (queues == 1 ? "" : "s") + ", not " + sockets.size());
        }
        if (sockets.stream().distinct().count() < sockets.size()) {
            throw problem("--switch needs a different --socket for each guest");
        }
    }

    private ParameterException problem(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    private PortChoice portChoice() {
        if (port == null) {
            // A switch without an uplink.
            return null;
        }
        if (port.tap != null) {
            return new PortChoice.Tap(port.tap);
        }
        if (port.loopback) {
            return new PortChoice.Loopback();
        }
        if (port.sink || port.sinkCopy) {
            return new PortChoice.Sink(port.sinkCopy);
        }
        checks().range("--source", port.sourceFrameSize, SourcePort.MIN_FRAME, SourcePort.MAX_FRAME);
        return new PortChoice.Source(port.sourceFrameSize);
    }

    private OptionChecks checks() {
        return new OptionChecks(spec);
    }
}
