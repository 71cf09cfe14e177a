package dev.lowmem.guest;

import dev.lowmem.tools.bench.Iperf3Result;
import dev.lowmem.tools.bench.SockperfResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Traffic between the guest and the host side, with the tools on both ends: busybox ping, iperf3
 * and sockperf (the guest the client, the host the server) and busybox nc carrying a file whose
 * SHA-256 is compared on arrival.
 */
public final class GuestTraffic {
    private static final Duration SHORT = Duration.ofSeconds(30);
    private static final int IPERF3_PORT = 5201;
    private static final int UDP_PORT = 5203;
    /** The port of the bench's sockperf server (tools/scripts/lib/contenders.sh), here too. */
    private static final int SOCKPERF_PORT = 11111;
    /**
     * The bench's rate (guest-tests/scripts/build-guest, its sockperf scenario): a message every 5 ms,
     * above a TCG guest's round trip, so each finds the guest and the backend idle.
     */
    private static final int SOCKPERF_MESSAGES_PER_SECOND = 200;
    private static final int TO_HOST_PORT = 5001;
    private static final int TO_GUEST_PORT = 5002;
    /** A UDP port nothing in the guest listens on. */
    private static final int CLOSED_UDP_PORT = 9;

    /** Which way traffic goes. */
    public enum Direction {
        GUEST_TO_HOST("guest -> host", "guest-to-host"), HOST_TO_GUEST("host -> guest", "host-to-guest");

        private final String label;
        private final String word;

        Direction(String label, String word) {
            this.label = label;
            this.word = word;
        }

        /** "guest-to-host": as the guest's scripts name it. */
        public String word() {
            return word;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    /** A file sent one way ({@code route}: "guest -> host"): its size and SHA-256 as sent and as received. */
    public record Transfer(String route, long sentBytes, String sentSha256, long receivedBytes, String receivedSha256) {
        public boolean intact() {
            return sentBytes == receivedBytes && sentSha256.equals(receivedSha256);
        }

        public String summary() {
            return String.format("%s: sent %d B sha256 %s, received %d B sha256 %s", route, sentBytes, sentSha256,
                    receivedBytes, receivedSha256);
        }
    }

    private final HostSide host;
    private final Guest guest;
    private final Path workDir;
    private final Path logDir;

    GuestTraffic(HostSide host, Guest guest, Path workDir, Path logDir) {
        this.host = host;
        this.guest = guest;
        this.workDir = workDir;
        this.logDir = logDir;
    }

    public PingResult pingFromGuest(int count) throws IOException, InterruptedException {
        return ping(guest, count, HostSide.HOST_ADDRESS);
    }

    public PingResult pingFromHost(int count) throws IOException, InterruptedException {
        return PingResult.parse(host.exec(pingTimeout(count), ("busybox " + ping(count, guest.address())).split(" ")).stdout());
    }

    /**
     * One UDP datagram from the host from each of {@code flows} sockets, to a port the guest
     * does not listen on: each its own source port, so a flow of its own, which a multi-queue TAP
     * hashes to a queue of its own. The guest counts each that reaches it (/proc/net/snmp, Udp
     * NoPorts).
     *
     * @return how many reached the guest within a few seconds
     */
    public long datagramsFromHostInSeparateFlows(int flows) throws IOException, InterruptedException {
        long before = guestUdpNoPorts();
        host.exec("bash", "-c", "for i in $(seq " + flows + "); do printf flow > /dev/udp/" + guest.address() + "/"
                + CLOSED_UDP_PORT + "; done");
        long arrived = 0;
        for (int attempt = 0; attempt < 50 && arrived < flows; attempt++) {
            Thread.sleep(100);
            arrived = guestUdpNoPorts() - before;
        }
        return arrived;
    }

    private long guestUdpNoPorts() throws IOException, InterruptedException {
        List<String> udp = guest.check(SHORT, "cat /proc/net/snmp").lines()
                .filter(line -> line.startsWith("Udp:")).toList();
        List<String> names = List.of(udp.get(0).split("\\s+"));
        return Long.parseLong(udp.get(1).split("\\s+")[names.indexOf("NoPorts")]);
    }

    /** {@code count} pings from {@code guest} to {@code address}. */
    static PingResult ping(Guest guest, int count, String address) throws IOException, InterruptedException {
        return PingResult.parse(guest.run(pingTimeout(count), ping(count, address)).text());
    }

    private static String ping(int count, String address) {
        return "ping -c " + count + " -W 5 " + address;
    }

    private static Duration pingTimeout(int count) {
        return Duration.ofSeconds(10L + 2L * count);
    }

    /**
     * UDP round trips for {@code seconds}, timed as the bench times them: the guest's sockperf
     * ping-pong, one message in flight, with {@code --full-rtt} (whole round trips, not halves),
     * against a sockperf server on the host address that is stopped afterwards.
     */
    public SockperfResult roundTrips(int seconds) throws IOException, InterruptedException {
        Process server = host.start(logDir.resolve("sockperf-server.log"), "sockperf", "server", "-i", HostSide.HOST_ADDRESS,
                "-p", Integer.toString(SOCKPERF_PORT));
        try {
            host.awaitListeningUdp(SOCKPERF_PORT, SHORT);
            String client = "sockperf ping-pong -i " + HostSide.HOST_ADDRESS + " -p " + SOCKPERF_PORT + " -t " + seconds
                    + " --mps " + SOCKPERF_MESSAGES_PER_SECOND + " --full-rtt";
            return SockperfResult.parse(guest.check(SHORT.plusSeconds(seconds), client));
        } finally {
            // A sockperf server serves until it is stopped; the host side would stop it only at its close.
            Processes.stop(server);
        }
    }

    /** An iperf3 TCP test of {@code seconds}, the guest the client and the host the server. */
    public Iperf3Result iperf3(Direction direction, int seconds) throws IOException, InterruptedException {
        return iperf3(direction, seconds, 1);
    }

    /** As {@link #iperf3(Direction, int)}, with {@code streams} TCP connections at once (their sum). */
    public Iperf3Result iperf3(Direction direction, int seconds, int streams) throws IOException, InterruptedException {
        Process server = host.start(logDir.resolve("iperf3-server.log"), "iperf3", "-s", "-1", "-p", Integer.toString(IPERF3_PORT));
        host.awaitListening(IPERF3_PORT, SHORT);
        String client = "iperf3 -c " + HostSide.HOST_ADDRESS + " -p " + IPERF3_PORT + " -t " + seconds
                + (streams > 1 ? " -P " + streams : "") + (direction == Direction.HOST_TO_GUEST ? " -R" : "");
        String output = guest.check(Duration.ofSeconds(seconds + 60L), client);
        awaitEnd(server, "the iperf3 server");
        return Iperf3Result.parse(output);
    }

    /**
     * An iperf3 TCP test of {@code seconds}, as {@link #iperf3}, with a figure for each second: the
     * guest's {@code guest-stress iperf3 NAME} (its output between "=== iperf3 NAME begin/end ===").
     */
    public Iperf3Run iperf3EachSecond(Direction direction, int seconds, String name) throws IOException, InterruptedException {
        Process server = host.start(logDir.resolve("iperf3-server.log"), "iperf3", "-s", "-1", "-p", Integer.toString(IPERF3_PORT));
        host.awaitListening(IPERF3_PORT, SHORT);
        String output = guest.check(Duration.ofSeconds(seconds + 60L),
                "guest-stress iperf3 " + name + " " + direction.word() + " " + seconds);
        awaitEnd(server, "the iperf3 server");
        return Iperf3Run.parse(output, direction);
    }

    /**
     * Starts a UDP stream of {@code megabits} Mbit/s from the host to the guest for {@code seconds}
     * (iperf3 -u, the guest the server, on its own port beside a TCP test's; its control connection is
     * TCP), and returns the host's
     * iperf3 client: its output, in {@code iperf3-udp-host.log}, ends with the guest's loss. Unlike
     * TCP, it does not wait for the guest's acknowledgements, so it fills an RX ring the guest does
     * not refill.
     */
    public Process udpToGuest(int megabits, int seconds) throws IOException, InterruptedException {
        guest.check(SHORT, "iperf3 -s -1 -D -p " + UDP_PORT + " && " + Guest.awaitListening(UDP_PORT));
        return host.start(logDir.resolve("iperf3-udp-host.log"), "iperf3", "-c", guest.address(), "-p", Integer.toString(UDP_PORT),
                "-u", "-b", megabits + "M", "-t", Integer.toString(seconds));
    }

    /**
     * Sends {@code bytes} random bytes from the guest to the host with nc and compares SHA-256s. The
     * receiving nc, here and in {@link #sendToGuest}, hands the connection to a cat ({@code -e}):
     * busybox nc stops reading the socket once its own standard input ends, which for a listener in
     * the background is at once.
     */
    public Transfer sendToHost(long bytes) throws IOException, InterruptedException {
        Path received = workDir.resolve("from-guest");
        Process listener = host.start(logDir.resolve("nc-host.log"),
                "busybox", "nc", "-l", "-p", Integer.toString(TO_HOST_PORT), "-e", "sh", "-c", "cat > " + received);
        host.awaitListening(TO_HOST_PORT, SHORT);
        String sent = sendRandomFile(guest, bytes, HostSide.HOST_ADDRESS, TO_HOST_PORT);
        awaitEnd(listener, "the host's nc");
        return new Transfer(Direction.GUEST_TO_HOST.toString(), bytes, sent, Files.size(received), RandomFiles.sha256(received));
    }

    /** Sends {@code bytes} random bytes from the host to the guest with nc and compares SHA-256s. */
    public Transfer sendToGuest(long bytes) throws IOException, InterruptedException {
        Path file = workDir.resolve("to-guest");
        String sent = RandomFiles.write(file, bytes, bytes);
        listenForFile(guest, TO_GUEST_PORT);
        host.exec(transferTimeout(bytes), "sh", "-c", "exec busybox nc " + guest.address() + " " + TO_GUEST_PORT + " < " + file)
                .checked();
        return receivedFile(guest, Direction.HOST_TO_GUEST.toString(), bytes, sent);
    }

    /** {@code guest} listens on {@code port} with nc (handing the connection to a cat: see {@link #sendToHost}). */
    static void listenForFile(Guest guest, int port) throws IOException, InterruptedException {
        guest.check(SHORT, "nc -l -p " + port + " -e sh -c 'cat > /tmp/in' & " + Guest.awaitListening(port));
    }

    /** {@code guest} sends {@code bytes} random bytes to {@code address}:{@code port}; returns their SHA-256. */
    static String sendRandomFile(Guest guest, long bytes, String address, int port) throws IOException, InterruptedException {
        String sent = guest.check(transferTimeout(bytes), "head -c " + bytes + " /dev/urandom > /tmp/out && sha256sum /tmp/out"
                + " && nc " + address + " " + port + " < /tmp/out && rm /tmp/out");
        return sent.strip().split("\\s+")[0];
    }

    /** What {@code guest}'s listener ({@link #listenForFile}) received, against what was sent. */
    static Transfer receivedFile(Guest guest, String route, long bytes, String sentSha256)
            throws IOException, InterruptedException {
        String[] received = guest.check(transferTimeout(bytes), "wait && wc -c < /tmp/in && sha256sum /tmp/in && rm /tmp/in")
                .strip().split("\\s+");
        return new Transfer(route, bytes, sentSha256, Long.parseLong(received[0]), received[1]);
    }

    private static Duration transferTimeout(long bytes) {
        // Generous for TCG: a guest moves at least a few MB/s even when the host is busy.
        return Duration.ofSeconds(60 + bytes / 1_000_000);
    }

    private static void awaitEnd(Process process, String what) throws IOException, InterruptedException {
        if (!process.waitFor(SHORT.toSeconds(), TimeUnit.SECONDS)) {
            throw new IOException(what + " did not end within " + SHORT.toSeconds() + " s");
        }
    }
}
