package dev.lowmem.guest;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The host's end of the guest's network: a network namespace of our own holding a persistent TAP
 * with the host's address, so that nothing touches this machine's network and the TAP (with its
 * address) outlives a backend that stops or crashes. The backend runs inside the namespace and
 * attaches to the TAP; the host's programs (ping, iperf3, nc) run inside it too. Deleting the
 * namespace on close deletes the TAP.
 */
public final class HostSide implements AutoCloseable {
    public static final String HOST_ADDRESS = "10.0.2.1";
    public static final String GUEST_ADDRESS = "10.0.2.2";
    private static final String PREFIX = "/24";
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);
    private static final List<String> TAP_COUNTERS = List.of("rx_packets", "tx_packets", "rx_dropped", "tx_dropped");

    private final String namespace;
    private final String tap;
    private final List<Process> started = new ArrayList<>();

    private HostSide(String namespace, String tap) {
        this.namespace = namespace;
        this.tap = tap;
    }

    /** A namespace with a TAP of {@code queuePairs} queues (multi_queue when more than one) at {@link #HOST_ADDRESS}. */
    public static HostSide create(String namespace, String tap, int queuePairs) throws IOException, InterruptedException {
        Commands.run(COMMAND_TIMEOUT, List.of("ip", "netns", "add", namespace)).checked();
        HostSide host = new HostSide(namespace, tap);
        try {
            host.exec("ip", "link", "set", "lo", "up").checked();
            List<String> add = new ArrayList<>(List.of("ip", "tuntap", "add", "dev", tap, "mode", "tap", "vnet_hdr"));
            if (queuePairs > 1) {
                add.add("multi_queue");
            }
            host.exec(add.toArray(String[]::new)).checked();
            host.exec("ip", "addr", "add", HOST_ADDRESS + PREFIX, "dev", tap).checked();
            host.exec("ip", "link", "set", tap, "up").checked();
            return host;
        } catch (IOException | RuntimeException e) {
            host.close();
            throw e;
        }
    }

    /**
     * A namespace whose host address is on a bridge joining several single-queue TAPs, as a
     * host's bridge joins the TAPs of guests: a guest that moves from one TAP to another (a live
     * migration between two QEMUs, each on its own backend) keeps reaching the host. {@link #tap()}
     * is the first.
     */
    public static HostSide createBridged(String namespace, List<String> taps) throws IOException, InterruptedException {
        Commands.run(COMMAND_TIMEOUT, List.of("ip", "netns", "add", namespace)).checked();
        HostSide host = new HostSide(namespace, taps.getFirst());
        try {
            host.exec("ip", "link", "set", "lo", "up").checked();
            host.exec("ip", "link", "add", "br0", "type", "bridge").checked();
            for (String tap : taps) {
                host.exec("ip", "tuntap", "add", "dev", tap, "mode", "tap", "vnet_hdr").checked();
                host.exec("ip", "link", "set", tap, "master", "br0").checked();
                host.exec("ip", "link", "set", tap, "up").checked();
            }
            host.exec("ip", "addr", "add", HOST_ADDRESS + PREFIX, "dev", "br0").checked();
            host.exec("ip", "link", "set", "br0", "up").checked();
            return host;
        } catch (IOException | RuntimeException e) {
            host.close();
            throw e;
        }
    }

    public String tap() {
        return tap;
    }

    /** {@code command} as run inside the namespace. */
    public List<String> inside(String... command) {
        List<String> words = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        words.addAll(List.of(command));
        return words;
    }

    public Commands.Output exec(String... command) throws IOException, InterruptedException {
        return exec(COMMAND_TIMEOUT, command);
    }

    public Commands.Output exec(Duration timeout, String... command) throws IOException, InterruptedException {
        return Commands.run(timeout, inside(command));
    }

    /**
     * Starts {@code command} inside the namespace, its output to {@code log} unless the caller reads
     * it ({@code log} null); stopped on close if it is still running.
     */
    public Process start(Path log, String... command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(inside(command)).redirectInput(Processes.NO_INPUT);
        if (log != null) {
            builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        }
        Process process = builder.start();
        started.add(process);
        return process;
    }

    /**
     * The TAP's counters, as the kernel keeps them for its host side: {@code tx_packets} are the frames
     * the backend read from it (for the guest), {@code rx_packets} those it wrote (from the guest);
     * {@code tx_dropped} frames the TAP dropped because its reader did not take them in time.
     */
    public Map<String, Long> tapCounters() throws IOException, InterruptedException {
        Map<String, Long> counters = new LinkedHashMap<>();
        for (String key : TAP_COUNTERS) {
            counters.put(key, Long.parseLong(exec("cat", "/sys/class/net/" + tap + "/statistics/" + key).checked().stdout().strip()));
        }
        return counters;
    }

    /** Waits until something listens on TCP {@code port} in the namespace. */
    public void awaitListening(int port, Duration timeout) throws IOException, InterruptedException {
        awaitSocket("-Hltn", "TCP", port, timeout);
    }

    /** Waits until a socket is bound to UDP {@code port} in the namespace (a UDP server's "listening"). */
    public void awaitListeningUdp(int port, Duration timeout) throws IOException, InterruptedException {
        awaitSocket("-Hlun", "UDP", port, timeout);
    }

    /** Waits until {@code ss ssOptions} lists a socket on {@code port}. */
    private void awaitSocket(String ssOptions, String protocol, int port, Duration timeout)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String filter = "sport = :" + port;
        while (exec("ss", ssOptions, filter).checked().stdout().isBlank()) {
            if (System.nanoTime() > deadline) {
                throw new IOException("nothing listens on " + protocol + " port " + port + " in " + namespace + " after "
                        + timeout.toSeconds() + " s");
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        for (Process process : started) {
            Processes.stop(process);
        }
        Commands.run(COMMAND_TIMEOUT, List.of("ip", "netns", "delete", namespace)).checked();
    }
}
