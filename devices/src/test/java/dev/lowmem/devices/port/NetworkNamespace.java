package dev.lowmem.devices.port;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A network namespace of a test's own ({@code ip netns add}), where the host's side of a TAP can
 * be set up without touching this machine's network; deleted on close, with the processes started
 * in it.
 */
public final class NetworkNamespace implements AutoCloseable {
    private static final long COMMAND_TIMEOUT_SECONDS = 10;

    private final String name;
    private final List<Process> started = new ArrayList<>();

    private NetworkNamespace(String name) {
        this.name = name;
    }

    public static NetworkNamespace create(String name) throws IOException, InterruptedException {
        run("ip", "netns", "add", name);
        return new NetworkNamespace(name);
    }

    /**
     * A namespace whose interfaces get no IPv6: a TAP's host end then sends no router
     * solicitations or reports, frames a test would only have to skip.
     */
    public static NetworkNamespace createWithoutIpv6(String name) throws IOException, InterruptedException {
        NetworkNamespace namespace = create(name);
        namespace.exec("sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6");
        return namespace;
    }

    /** "10.A.B" with A and B random: a /24 unlikely to meet another test's or this machine's. */
    public static String randomSubnet() {
        return "10." + ThreadLocalRandom.current().nextInt(1, 255) + "." + ThreadLocalRandom.current().nextInt(1, 255);
    }

    public String name() {
        return name;
    }

    /** Runs {@code command} inside the namespace and returns what it printed. */
    public String exec(String... command) throws IOException, InterruptedException {
        return run(inside(command));
    }

    /** Starts {@code command} inside the namespace, for the caller to wait for; killed on close if it still runs. */
    public Process start(String... command) throws IOException {
        Process process = new ProcessBuilder(inside(command)).start();
        started.add(process);
        return process;
    }

    private String[] inside(String... command) {
        List<String> words = new ArrayList<>(List.of("ip", "netns", "exec", name));
        words.addAll(List.of(command));
        return words.toArray(String[]::new);
    }

    /** Moves interface {@code device} from this process's namespace into this one. */
    public void adopt(String device) throws IOException, InterruptedException {
        run("ip", "link", "set", device, "netns", name);
    }

    /**
     * Moves interface {@code device} here, gives it {@code cidr} ("10.1.2.1/24") and brings it up:
     * the host's end of a TAP whose fd the test keeps.
     */
    public void adoptAsHost(String device, String cidr) throws IOException, InterruptedException {
        adopt(device);
        exec("ip", "address", "add", cidr, "dev", device);
        exec("ip", "link", "set", device, "up");
    }

    /** Runs {@code command} here and returns what it printed; fails naming it, its exit code and its stderr. */
    public static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).start();
        Finished finished = finish(process, COMMAND_TIMEOUT_SECONDS);
        if (finished.exitCode() != 0) {
            throw new IOException(String.join(" ", command) + " exited with " + finished.exitCode() + ": " + finished.stderr().strip());
        }
        return finished.stdout();
    }

    /** What a process printed and how it ended; -1 when it was killed after {@code timeoutSeconds}. */
    public record Finished(int exitCode, String stdout, String stderr) {
    }

    public static Finished finish(Process process, long timeoutSeconds) throws IOException, InterruptedException {
        process.getOutputStream().close();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            return new Finished(-1, read(process.getInputStream()), read(process.getErrorStream()));
        }
        return new Finished(process.exitValue(), read(process.getInputStream()), read(process.getErrorStream()));
    }

    private static String read(InputStream stream) throws IOException {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        for (Process process : started) {
            process.destroyForcibly().waitFor();
        }
        run("ip", "netns", "delete", name);
    }
}
