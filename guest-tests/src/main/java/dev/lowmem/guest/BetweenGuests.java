package dev.lowmem.guest;

import dev.lowmem.tools.bench.Iperf3Result;
import java.io.IOException;
import java.time.Duration;

/**
 * Traffic from one guest to another on the same switch, with the guests' own tools: busybox ping,
 * iperf3 (the receiving guest the server) and busybox nc carrying random bytes whose SHA-256 both
 * guests compute.
 */
public final class BetweenGuests {
    private static final Duration SHORT = Duration.ofSeconds(30);
    private static final int IPERF3_PORT = 5201;
    private static final int TRANSFER_PORT = 5003;

    private final Guest from;
    private final Guest to;

    public BetweenGuests(Guest from, Guest to) {
        this.from = from;
        this.to = to;
    }

    public PingResult ping(int count) throws IOException, InterruptedException {
        return GuestTraffic.ping(from, count, to.address());
    }

    /** An iperf3 TCP test of {@code seconds} from {@code from} (the client) to {@code to} (a one-off server). */
    public Iperf3Result iperf3(int seconds) throws IOException, InterruptedException {
        to.check(SHORT, "iperf3 -s -1 -D -p " + IPERF3_PORT + " && " + Guest.awaitListening(IPERF3_PORT));
        return Iperf3Result.parse(from.check(Duration.ofSeconds(seconds + 60L),
                "iperf3 -c " + to.address() + " -p " + IPERF3_PORT + " -t " + seconds));
    }

    /** Sends {@code bytes} random bytes with nc and compares the SHA-256 each side computed. */
    public GuestTraffic.Transfer send(long bytes) throws IOException, InterruptedException {
        GuestTraffic.listenForFile(to, TRANSFER_PORT);
        String sent = GuestTraffic.sendRandomFile(from, bytes, to.address(), TRANSFER_PORT);
        return GuestTraffic.receivedFile(to, from.address() + " -> " + to.address(), bytes, sent);
    }
}
