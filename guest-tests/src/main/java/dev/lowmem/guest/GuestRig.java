package dev.lowmem.guest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A guest on our backend, end to end: the host side (namespace and TAP), the backend attached to
 * the TAP, and the guest booted on the backend's socket, with the traffic the tests and the demo
 * run between guest and host. Everything it starts is stopped on close, in reverse order, on
 * failure too.
 */
public final class GuestRig implements AutoCloseable {
    private static final AtomicInteger RIGS = new AtomicInteger();
    private static final Duration NEGOTIATION_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration SHORT = Duration.ofSeconds(30);
    private static final int IPERF3_PORT = 5201;
    private static final int TO_HOST_PORT = 5001;
    private static final int TO_GUEST_PORT = 5002;

    /**
     * What to start: {@code deviceOptions} are QEMU's virtio-net-pci properties (e.g.
     * {@code mrg_rxbuf=off}), {@code backendOptions} more of the command's options; QEMU reconnects
     * every {@code reconnectSeconds} when the backend goes (0: never).
     */
    public record Options(Path logDir, String deviceOptions, List<String> backendOptions, int reconnectSeconds) {
        public static Options defaults(Path logDir) {
            return new Options(logDir, "", List.of(), 0);
        }

        public Options withDeviceOptions(String options) {
            return new Options(logDir, options, backendOptions, reconnectSeconds);
        }

        public Options withReconnect(int seconds) {
            return new Options(logDir, deviceOptions, backendOptions, seconds);
        }
    }

    /** Which way traffic goes. */
    public enum Direction {
        GUEST_TO_HOST("guest -> host"), HOST_TO_GUEST("host -> guest");

        private final String label;

        Direction(String label) {
            this.label = label;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    /** A file sent one way: its size and SHA-256 as sent and as received. */
    public record Transfer(Direction direction, long sentBytes, String sentSha256, long receivedBytes, String receivedSha256) {
        public boolean intact() {
            return sentBytes == receivedBytes && sentSha256.equals(receivedSha256);
        }

        public String summary() {
            return String.format("%s: sent %d B sha256 %s, received %d B sha256 %s", direction, sentBytes, sentSha256,
                    receivedBytes, receivedSha256);
        }
    }

    private final Options options;
    private final Path workDir;
    private final Path socket;
    private HostSide host;
    private Backend backend;
    private Guest guest;
    private String negotiated;
    private int backendStarts;

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
            rig.host = HostSide.create(namespace, "lvg0");
            progress.accept("backend: vhost-user-net --tap lvg0 on " + rig.socket);
            rig.startBackend();
            progress.accept("guest: booting (the console goes to " + rig.consoleLog() + ")");
            rig.guest = Guest.boot(new Guest.Config(rig.socket, options.deviceOptions(), options.reconnectSeconds(), rig.consoleLog()));
            rig.negotiated = rig.backend.awaitNegotiated(NEGOTIATION_TIMEOUT);
            return rig;
        } catch (IOException | RuntimeException e) {
            rig.close();
            throw e;
        }
    }

    private void startBackend() throws IOException, InterruptedException {
        backendStarts++;
        backend = Backend.start(host, socket, options.logDir().resolve("backend-" + backendStarts + ".log"), options.backendOptions());
    }

    public Path consoleLog() {
        return options.logDir().resolve("console.log");
    }

    public HostSide host() {
        return host;
    }

    public Backend backend() {
        return backend;
    }

    public Guest guest() {
        return guest;
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

    public PingResult pingFromGuest(int count) throws IOException, InterruptedException {
        return PingResult.parse(guest.run(pingTimeout(count), ping(count, HostSide.HOST_ADDRESS)).text());
    }

    public PingResult pingFromHost(int count) throws IOException, InterruptedException {
        return PingResult.parse(host.exec(pingTimeout(count), ("busybox " + ping(count, HostSide.GUEST_ADDRESS)).split(" ")).stdout());
    }

    private static String ping(int count, String address) {
        return "ping -c " + count + " -W 5 " + address;
    }

    private static Duration pingTimeout(int count) {
        return Duration.ofSeconds(10L + 2L * count);
    }

    /** An iperf3 TCP test of {@code seconds}, the guest the client and the host the server. */
    public Iperf3Result iperf3(Direction direction, int seconds) throws IOException, InterruptedException {
        Process server = host.start(options.logDir().resolve("iperf3-server.log"), "iperf3", "-s", "-1", "-p", Integer.toString(IPERF3_PORT));
        host.awaitListening(IPERF3_PORT, SHORT);
        String client = "iperf3 -c " + HostSide.HOST_ADDRESS + " -p " + IPERF3_PORT + " -t " + seconds
                + (direction == Direction.HOST_TO_GUEST ? " -R" : "");
        String output = guest.check(Duration.ofSeconds(seconds + 60L), client);
        awaitEnd(server, "the iperf3 server");
        return Iperf3Result.parse(output);
    }

    // The receiving nc hands the connection to a cat (-e): busybox nc stops reading the socket once
    // its own standard input ends, which for a listener in the background is at once.

    /** Sends {@code bytes} random bytes from the guest to the host with nc and compares SHA-256s. */
    public Transfer sendToHost(long bytes) throws IOException, InterruptedException {
        Path received = workDir.resolve("from-guest");
        Process listener = host.start(options.logDir().resolve("nc-host.log"),
                "busybox", "nc", "-l", "-p", Integer.toString(TO_HOST_PORT), "-e", "sh", "-c", "cat > " + received);
        host.awaitListening(TO_HOST_PORT, SHORT);
        String sent = guest.check(transferTimeout(bytes), "head -c " + bytes + " /dev/urandom > /tmp/out && sha256sum /tmp/out"
                + " && nc " + HostSide.HOST_ADDRESS + " " + TO_HOST_PORT + " < /tmp/out && rm /tmp/out");
        awaitEnd(listener, "the host's nc");
        return new Transfer(Direction.GUEST_TO_HOST, bytes, firstWord(sent), Files.size(received), sha256(received));
    }

    /** Sends {@code bytes} random bytes from the host to the guest with nc and compares SHA-256s. */
    public Transfer sendToGuest(long bytes) throws IOException, InterruptedException {
        Path file = workDir.resolve("to-guest");
        writeRandom(file, bytes);
        guest.check(SHORT, "nc -l -p " + TO_GUEST_PORT + " -e sh -c 'cat > /tmp/in' & i=0; until netstat -ltn | grep -q ':" + TO_GUEST_PORT
                + " '; do i=$((i + 1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done");
        host.exec(transferTimeout(bytes), "sh", "-c", "exec busybox nc " + HostSide.GUEST_ADDRESS + " " + TO_GUEST_PORT + " < " + file)
                .checked();
        String[] received = guest.check(transferTimeout(bytes), "wait && wc -c < /tmp/in && sha256sum /tmp/in && rm /tmp/in")
                .strip().split("\\s+");
        return new Transfer(Direction.HOST_TO_GUEST, bytes, sha256(file), Long.parseLong(received[0]), received[1]);
    }

    private static Duration transferTimeout(long bytes) {
        // Generous for TCG: a guest moves at least a few MB/s even when the host is busy.
        return Duration.ofSeconds(60 + bytes / 1_000_000);
    }

    private static String firstWord(String text) {
        return text.strip().split("\\s+")[0];
    }

    private static void writeRandom(Path file, long bytes) throws IOException {
        Random random = new Random(bytes);
        byte[] chunk = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long left = bytes; left > 0; left -= chunk.length) {
                random.nextBytes(chunk);
                out.write(chunk, 0, (int) Math.min(left, chunk.length));
            }
        }
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static void awaitEnd(Process process, String what) throws IOException, InterruptedException {
        if (!process.waitFor(SHORT.toSeconds(), TimeUnit.SECONDS)) {
            throw new IOException(what + " did not end within " + SHORT.toSeconds() + " s");
        }
    }

    /**
     * Stops the backend, with SIGKILL when {@code crash} (else SIGTERM), starts a new one on the same
     * socket and TAP, and waits until the guest's QEMU has reconnected and negotiated with it.
     */
    public void restartBackend(boolean crash) throws IOException, InterruptedException {
        if (crash) {
            backend.kill();
        } else {
            backend.stop();
        }
        startBackend();
        awaitNegotiation();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try (var dir = new TempDir(workDir); var h = host; var b = backend; var g = guest) {
            // Closed in reverse: the guest, then the backend, the host side and the work directory.
        }
    }

    /** The rig's own scratch directory (socket, files sent), deleted with what is in it. */
    private record TempDir(Path path) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try (var entries = Files.list(path)) {
                for (Path entry : entries.toList()) {
                    Files.deleteIfExists(entry);
                }
            }
            Files.deleteIfExists(path);
        }
    }
}
