package dev.lowmem.guest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A guest on our backend, end to end: the host side (namespace and TAP), the backend attached to
 * the TAP, and the guest booted on the backend's socket. Everything it starts is stopped on close,
 * in reverse order, on failure too.
 */
public final class GuestRig implements AutoCloseable {
    private static final AtomicInteger RIGS = new AtomicInteger();
    private static final Duration NEGOTIATION_TIMEOUT = Duration.ofSeconds(60);
    private static final int AT_REST_ATTEMPTS = 10;
    private static final Duration AT_REST_PAUSE = Duration.ofMillis(200);

    /**
     * What to start: {@code deviceOptions} are QEMU's virtio-net-pci properties (e.g.
     * {@code mrg_rxbuf=off}); QEMU reconnects every {@code reconnectSeconds} when the backend goes
     * (0: never); the guest has {@code memory} (run-guest's {@code --mem}, e.g. {@code 128M}; empty:
     * run-guest's default); {@code queuePairs} pairs run end to end (a multi-queue TAP, the
     * backend's {@code --queues}, QEMU's {@code queues=} and a vCPU per pair, for the guest's
     * driver uses one pair per vCPU); {@code backendConnects}: QEMU listens on the socket
     * ({@code server=on}) and the backend connects to it ({@code --client}), again after each
     * restart, as a backend restarted under running guests is deployed.
     */
    public record Options(Path logDir, String deviceOptions, int reconnectSeconds, String memory, int queuePairs,
            int vcpus, boolean backendConnects) {
        public static Options defaults(Path logDir) {
            return new Options(logDir, "", 0, "", 1, 1, false);
        }

        public Options withDeviceOptions(String options) {
            return new Options(logDir, options, reconnectSeconds, memory, queuePairs, vcpus, backendConnects);
        }

        public Options withReconnect(int seconds) {
            return new Options(logDir, deviceOptions, seconds, memory, queuePairs, vcpus, backendConnects);
        }

        public Options withMemory(String size) {
            return new Options(logDir, deviceOptions, reconnectSeconds, size, queuePairs, vcpus, backendConnects);
        }

        /** {@code pairs} queue pairs and as many vCPUs, so the guest's driver uses them all. */
        public Options withQueuePairs(int pairs) {
            return new Options(logDir, deviceOptions, reconnectSeconds, memory, pairs, pairs, backendConnects);
        }

        /** {@code count} vCPUs: fewer than the pairs, and the guest's driver leaves the others unused. */
        public Options withVcpus(int count) {
            return new Options(logDir, deviceOptions, reconnectSeconds, memory, queuePairs, count, backendConnects);
        }

        public Options withBackendConnecting() {
            return new Options(logDir, deviceOptions, reconnectSeconds, memory, queuePairs, vcpus, true);
        }
    }

    private final Options options;
    private final Path workDir;
    private final Path socket;
    private HostSide host;
    private Backend backend;
    private Guest guest;
    private GuestTraffic traffic;
    private String negotiated;
    private int backendStarts;
    private int guestStarts = 1;

    private GuestRig(Options options, Path workDir) {
        this.options = options;
        this.workDir = workDir;
        this.socket = workDir.resolve("vhost-user.sock");
    }

    /** Starts host side, backend and guest, reporting each step to {@code progress}. */
    public static GuestRig start(Options options, Consumer<String> progress) throws IOException, InterruptedException {
        Files.createDirectories(options.logDir());
        GuestRig rig = new GuestRig(options, Files.createTempDirectory("lowmem-vnet-guest"));
        try {
            String namespace = "lvg-" + ProcessHandle.current().pid() + "-" + RIGS.incrementAndGet();
            progress.accept("host side: network namespace " + namespace + ", TAP lvg0 " + HostSide.HOST_ADDRESS + "/24");
            rig.host = HostSide.create(namespace, "lvg0", options.queuePairs());
            Guest.Config guest = rig.guestConfig();
            String booting = "guest: booting" + (options.memory().isEmpty() ? "" : " with " + options.memory())
                    + ", KVM if a probe boot works, else TCG (the console goes to " + rig.consoleLog() + ")";
            String backend = "backend: vhost-user-net --tap lvg0" + (options.queuePairs() > 1 ? " --queues "
                    + options.queuePairs() : "") + (options.backendConnects() ? " --client" : "") + " on " + rig.socket;
            if (options.backendConnects()) {
                progress.accept(booting + "; QEMU listens on the socket and waits for the backend");
                rig.guest = Guest.launch(guest, List.of("--server"));
                progress.accept(backend);
                rig.startBackend();
                rig.guest.awaitBoot();
            } else {
                progress.accept(backend);
                rig.startBackend();
                progress.accept(booting);
                rig.guest = Guest.boot(guest);
            }
            rig.negotiated = rig.backend.awaitNegotiated(NEGOTIATION_TIMEOUT);
            rig.traffic = new GuestTraffic(rig.host, rig.guest, rig.workDir, options.logDir());
            return rig;
        } catch (IOException | RuntimeException e) {
            rig.close();
            throw e;
        }
    }

    private void startBackend() throws IOException, InterruptedException {
        backendStarts++;
        Path log = options.logDir().resolve("backend-" + backendStarts + ".log");
        backend = options.backendConnects() ? Backend.startClient(host, socket, log)
                : Backend.start(host, socket, options.queuePairs(), log);
    }

    /** The guest as the options say, its console in {@link #consoleLog()}: the same for every start but that. */
    private Guest.Config guestConfig() {
        return new Guest.Config(socket, options.deviceOptions(), options.reconnectSeconds(), options.memory(),
                options.queuePairs(), options.vcpus(), consoleLog(), HostSide.GUEST_ADDRESS, Guest.FIRST_MAC);
    }

    /** The guest's kernel console, where {@link PacedTransfers#finish} looks for a kernel failure. */
    public Path consoleLog() {
        return options.logDir().resolve(guestStarts == 1 ? "console.log" : "console-" + guestStarts + ".log");
    }

    /** Starts 64 MiB each way between the host and the guest, paced, the host's file made from {@code seed}. */
    public PacedTransfers startPacedTransfers(long seed) throws IOException, InterruptedException {
        return PacedTransfers.start(host, guest, workDir, options.logDir(), seed);
    }

    public Backend backend() {
        return backend;
    }

    public Guest guest() {
        return guest;
    }

    /** Ping, iperf3 and checked transfers between this guest and the host. */
    public GuestTraffic traffic() {
        return traffic;
    }

    /**
     * The backend's counters and the TAP's ({@link HostSide#tapCounters()}) at one moment: read when no
     * frame moves between them, i.e. the backend's frame counts were the same before and after the TAP's
     * were read (tried a few times, then the last reading is taken as it is).
     */
    public AtRest countersAtRest() throws IOException, InterruptedException {
        BackendStats before = backend.stats();
        for (int attempt = 1; ; attempt++) {
            Map<String, Long> tap = host.tapCounters();
            BackendStats after = backend.stats();
            boolean still = after.get("rx_frames") == before.get("rx_frames") && after.get("tx_frames") == before.get("tx_frames");
            if (still || attempt == AT_REST_ATTEMPTS) {
                return new AtRest(after, tap, still);
            }
            before = after;
            Thread.sleep(AT_REST_PAUSE.toMillis());
        }
    }

    /** The backend's counters and the TAP's, read together; {@code still}: no frame moved meanwhile. */
    public record AtRest(BackendStats backend, Map<String, Long> tap, boolean still) {
        public long tap(String key) {
            return tap.getOrDefault(key, 0L);
        }

        /**
         * Of the frames the backend read from the TAP since {@code before}, those it neither wrote
         * into the guest nor counted as dropped ({@code rx_drop_*}) nor holds now ({@code backlog}):
         * 0 or less when every frame is accounted for (both readings taken at rest).
         */
        public long uncounted(AtRest before) {
            BackendStats grown = backend.since(before.backend);
            long undelivered = tap("tx_packets") - before.tap("tx_packets") - grown.get("rx_frames");
            long dropped = grown.totals().entrySet().stream().filter(entry -> entry.getKey().startsWith("rx_drop_"))
                    .mapToLong(Map.Entry::getValue).sum();
            return undelivered - dropped - backend.get("backlog");
        }
    }

    /** The features as the backend's log named them at the last negotiation. */
    public String negotiated() {
        return negotiated;
    }

    /** Waits for the backend's next negotiation (after the guest's driver starts again) and returns it. */
    public String awaitNegotiation() throws IOException, InterruptedException {
        negotiated = backend.awaitNegotiated(NEGOTIATION_TIMEOUT);
        return negotiated;
    }

    /**
     * Stops the backend, with SIGKILL when {@code crash} (else SIGTERM), starts a new one on the same
     * socket and TAP, and waits until the guest's QEMU has reconnected and negotiated with it. A
     * killed backend leaves its socket file, which QEMU's reconnects meet refused: the new backend
     * must find it stale and replace it (UnixServerSocket), and this checks that it did.
     */
    public void restartBackend(boolean crash) throws IOException, InterruptedException {
        if (crash && options.backendConnects()) {
            // QEMU's socket, not the backend's: there is no file for the new backend to replace.
            backend.kill();
        } else if (crash) {
            backend.kill();
            if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException("the killed backend left no socket file at " + socket
                        + ": the restart would not meet a stale one");
            }
        } else {
            backend.stop();
        }
        startBackend();
        if (crash && !options.backendConnects()) {
            backend.awaitStaleSocketReplaced();
        }
        awaitNegotiation();
    }

    /**
     * Kills the guest's QEMU with SIGKILL and starts a new QEMU, a new guest, on the same socket path
     * and TAP, with the backend left running: with {@link Options#withBackendConnecting()} QEMU
     * listens there again ({@code server=on}, replacing the socket file the killed one left) and
     * waits, and the backend must connect to it on its own and negotiate. Its console goes to
     * {@code console-N.log}.
     */
    public void restartGuest() throws IOException, InterruptedException {
        if (!options.backendConnects()) {
            throw new IllegalStateException("a guest restarted under a listening backend is not what this is for");
        }
        guest.kill();
        guestStarts++;
        guest = Guest.launch(guestConfig(), List.of("--server"));
        guest.awaitBoot();
        awaitNegotiation();
        traffic = new GuestTraffic(host, guest, workDir, options.logDir());
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try (var dir = new ScratchDirectory(workDir); var h = host; var b = backend; var g = guest) {
            // Closed in reverse: the guest, then the backend, the host side and the work directory.
        }
    }
}
