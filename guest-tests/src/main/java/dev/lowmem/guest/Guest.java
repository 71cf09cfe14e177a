package dev.lowmem.guest;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The test guest (guest-tests/scripts/build-guest) booted by guest-tests/scripts/run-guest in
 * QEMU with one virtio-net NIC on a vhost-user socket, running its {@code control} scenario: each
 * line written to the serial console is a shell command, answered by {@code GUEST-RC N} when it
 * ends. run-guest picks the accelerator (KVM only if a probe boot works), gives the NIC
 * {@code vectors=0} (QEMU 7.2 under TCG), shares memory through a memfd and keeps the console
 * in a log file; stopping it (SIGTERM) stops QEMU.
 */
public final class Guest implements AutoCloseable {
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration POWER_OFF_TIMEOUT = Duration.ofSeconds(20);
    private static final String READY = "GUEST-READY ";
    private static final String RC = "GUEST-RC ";
    /** The NIC's MAC address of a guest alone on its backend (run-guest's default). */
    public static final String FIRST_MAC = "52:54:00:12:34:56";

    /**
     * How to start the guest; {@code reconnectSeconds} 0 means QEMU does not reconnect; {@code memory}
     * is run-guest's {@code --mem} (e.g. {@code 128M}), empty for its default; {@code queuePairs}
     * pairs on the NIC and {@code vcpus} vCPUs (the guest's driver uses a pair per vCPU);
     * {@code address} its eth0 address, {@code mac} its NIC's.
     */
    public record Config(Path socket, String deviceOptions, int reconnectSeconds, String memory, int queuePairs,
            int vcpus, Path consoleLog, String address, String mac) {
        /** A vCPU per pair, so the guest's driver uses them all. */
        public Config(Path socket, String deviceOptions, int reconnectSeconds, String memory, int queuePairs,
                Path consoleLog, String address, String mac) {
            this(socket, deviceOptions, reconnectSeconds, memory, queuePairs, queuePairs, consoleLog, address, mac);
        }
    }

    /** How a guest command ended, and the console lines it printed. */
    public record Result(String command, int exitCode, List<String> output) {
        public String text() {
            return String.join("\n", output);
        }
    }

    private final Process runGuest;
    private final LineStream console;
    private final OutputStream commands;
    private final String address;
    private String accelerator;
    private String unanswered;
    private long features;

    private Guest(Process runGuest, LineStream console, String address) {
        this.runGuest = runGuest;
        this.console = console;
        this.commands = runGuest.getOutputStream();
        this.address = address;
    }

    /** Boots the guest and returns once its eth0 is up and it takes commands. */
    public static Guest boot(Config config) throws IOException, InterruptedException {
        return boot(config, List.of());
    }

    /**
     * As {@link #boot(Config)}, with more run-guest options ({@code --accel tcg,thread=single},
     * {@code --qmp PATH}).
     */
    public static Guest boot(Config config, List<String> runGuestOptions) throws IOException, InterruptedException {
        return start(List.of(), config, runGuestOptions, true);
    }

    /**
     * Starts QEMU as the destination of a migration ({@code --incoming URI} among
     * {@code runGuestOptions}, the source's options besides): it returns once QEMU runs, and the
     * guest takes commands on this console once it has migrated here.
     */
    public static Guest incoming(Config config, List<String> runGuestOptions) throws IOException, InterruptedException {
        return start(List.of(), config, runGuestOptions, false);
    }

    /**
     * Starts QEMU and returns once it runs, before the guest boots: with {@code --server} among
     * {@code runGuestOptions} QEMU waits for the backend to connect first. {@link #awaitBoot()}
     * then waits for the guest.
     */
    public static Guest launch(Config config, List<String> runGuestOptions) throws IOException, InterruptedException {
        return start(List.of(), config, runGuestOptions, false);
    }

    /**
     * As {@link #boot(Config, List)} or, with {@code awaitBoot} false, {@link #incoming}, with QEMU
     * run through {@code launcher} (e.g. {@code ip netns exec NS}), and on QEMU's own TAP netdev
     * when {@code config.socket()} is null and {@code runGuestOptions} name one ({@code --tap}).
     */
    public static Guest start(List<String> launcher, Config config, List<String> runGuestOptions, boolean awaitBoot)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(launcher);
        command.add(ProjectTree.guestScript("run-guest").toString());
        if (config.socket() != null) {
            command.addAll(List.of("--socket", config.socket().toString()));
        }
        command.addAll(List.of("--script", "control", "--log", config.consoleLog().toString(),
                // run-guest's own limit is only a backstop: every step here has its own.
                "--timeout", "3600"));
        if (!config.deviceOptions().isEmpty()) {
            command.addAll(List.of("--device-opts", config.deviceOptions()));
        }
        if (config.reconnectSeconds() > 0) {
            command.addAll(List.of("--reconnect", Integer.toString(config.reconnectSeconds())));
        }
        if (!config.memory().isEmpty()) {
            command.addAll(List.of("--mem", config.memory()));
        }
        command.addAll(List.of("--ip", config.address() + "/24", "--mac", config.mac()));
        if (config.queuePairs() > 1) {
            command.addAll(List.of("--queues", Integer.toString(config.queuePairs())));
        }
        if (config.vcpus() > 1) {
            command.addAll(List.of("--smp", Integer.toString(config.vcpus())));
        }
        command.addAll(runGuestOptions);
        Process process = new ProcessBuilder(command).start();
        Path launchLog = config.consoleLog().resolveSibling(config.consoleLog().getFileName() + ".run-guest");
        LineStream launch = LineStream.follow("run-guest", process.getErrorStream(), launchLog);
        // QEMU writes the console log itself (run-guest --log).
        Guest guest = new Guest(process, LineStream.follow("the guest's console", process.getInputStream(), null).quoting(launch),
                config.address());
        try {
            String qemu = launch.await(line -> line.startsWith("+ qemu-system"), BOOT_TIMEOUT, "QEMU's start");
            guest.accelerator = qemu.replaceFirst(".* -accel (\\S+).*", "$1");
            if (awaitBoot) {
                guest.awaitBoot();
            }
            return guest;
        } catch (IOException | RuntimeException e) {
            guest.close();
            throw e;
        }
    }

    /** Waits until eth0 is up and the guest takes commands. */
    public void awaitBoot() throws IOException, InterruptedException {
        features = parseFeatures(console.await(line -> line.startsWith(READY), BOOT_TIMEOUT, "guest boot"));
        console.await(line -> line.equals("GUEST-CONTROL"), BOOT_TIMEOUT, "the guest's command channel");
    }

    /** The accelerator run-guest chose: kvm when a probe boot worked, else tcg. */
    public String accelerator() {
        return accelerator;
    }

    /**
     * A shell line for this guest that waits up to 10 s for a TCP listener on {@code port}. Its
     * status is the last test's: an exit would end the guest's command shell.
     */
    static String awaitListening(int port) {
        String listening = "netstat -ltn | grep -q ':" + port + " '";
        return "i=0; until " + listening + " || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.1; done; " + listening;
    }

    /** The guest's eth0 address, without its prefix. */
    public String address() {
        return address;
    }

    /** The virtio feature bits the guest's driver negotiated, from its GUEST-READY line. */
    public long features() {
        return features;
    }

    /**
     * Runs {@code command} in the guest's shell and waits for it to end. After a command that did not
     * answer in time, the channel is out of step (its answer may still come), so every later command
     * fails at once, naming it.
     */
    public Result run(Duration timeout, String command) throws IOException, InterruptedException {
        if (command.contains("\n")) {
            throw new IllegalArgumentException("one line per command: " + command);
        }
        if (unanswered != null) {
            throw new IOException("the guest's command channel is out of step since '" + unanswered + "' did not answer");
        }
        commands.write((command + "\n").getBytes(StandardCharsets.UTF_8));
        commands.flush();
        List<String> output = new ArrayList<>();
        unanswered = command;
        String done = console.await(line -> line.startsWith(RC), timeout, "guest command '" + command + "'", output);
        unanswered = null;
        return new Result(command, Integer.parseInt(done.substring(RC.length()).strip()), List.copyOf(output));
    }

    /** Runs {@code command} and returns what it printed; fails unless it exits with 0. */
    public String check(Duration timeout, String command) throws IOException, InterruptedException {
        Result result = run(timeout, command);
        if (result.exitCode() != 0) {
            throw new IOException("guest command '" + command + "' exited with " + result.exitCode() + ":\n" + result.text());
        }
        return result.text();
    }

    /**
     * Brings eth0 up again after the driver was rebound (guest-net-up) and returns the features the
     * driver negotiated this time.
     */
    public long networkUp(Duration timeout) throws IOException, InterruptedException {
        String ready = check(timeout, "guest-net-up").lines().filter(line -> line.startsWith(READY)).findFirst()
                .orElseThrow(() -> new IOException("guest-net-up printed no " + READY + "line"));
        features = parseFeatures(ready);
        return features;
    }

    private static long parseFeatures(String readyLine) {
        String hex = readyLine.substring(readyLine.indexOf("features=0x") + "features=0x".length()).split("\\s")[0];
        return Long.parseUnsignedLong(hex, 16);
    }

    /**
     * Kills QEMU with SIGKILL, as a crash would (run-guest's own exit then follows): nothing is told
     * to the guest or to the back-end, whose connection just ends.
     */
    public void kill() throws InterruptedException {
        for (ProcessHandle qemu : runGuest.descendants()
                .filter(process -> process.info().command().orElse("").endsWith("qemu-system-x86_64")).toList()) {
            qemu.destroyForcibly();
            qemu.onExit().join();
        }
        Processes.stop(runGuest);
    }

    /** Stops QEMU at once, without asking the guest: a migration's source, whose guest runs elsewhere now. */
    public void stop() throws InterruptedException {
        Processes.stop(runGuest);
    }

    /** Powers the guest off (guest-done), or stops QEMU when it does not go. */
    @Override
    public void close() throws InterruptedException {
        if (runGuest.isAlive()) {
            try {
                commands.write("guest-done 0\n".getBytes(StandardCharsets.UTF_8));
                commands.flush();
            } catch (IOException e) {
                // QEMU went already; the stop below is all that is left.
            }
            runGuest.waitFor(POWER_OFF_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        }
        Processes.stop(runGuest);
    }
}
