package dev.lowmem.guest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Guests on our backend's switch, end to end: the host side (namespace and TAP, the switch's
 * uplink), one backend process serving a vhost-user socket per guest, and the guests, guest
 * {@code i} at 10.0.2.(2+i) with MAC 52:54:00:12:34:(56+i). Everything it starts is stopped on
 * close, in reverse order, on failure too.
 */
public final class SwitchRig implements AutoCloseable {
    private static final AtomicInteger RIGS = new AtomicInteger();
    private static final Duration NEGOTIATION_TIMEOUT = Duration.ofSeconds(60);

    private final Path logDir;
    private final Path workDir;
    private final int queuePairs;
    private final List<Path> sockets = new ArrayList<>();
    private final List<Guest> guests = new ArrayList<>();
    private final List<Integer> boots = new ArrayList<>();
    private HostSide host;
    private Backend backend;

    private SwitchRig(Path logDir, Path workDir, int queuePairs) {
        this.logDir = logDir;
        this.workDir = workDir;
        this.queuePairs = queuePairs;
    }

    /** Starts the host side, the switch and {@code guestCount} guests, reporting each step to {@code progress}. */
    public static SwitchRig start(Path logDir, int guestCount, Consumer<String> progress)
            throws IOException, InterruptedException {
        return start(logDir, guestCount, 1, progress);
    }

    /**
     * As {@link #start(Path, int, Consumer)}, each guest with {@code queuePairs} queue pairs (the
     * switch's {@code --queues}, QEMU's {@code queues=} and a vCPU per pair).
     */
    public static SwitchRig start(Path logDir, int guestCount, int queuePairs, Consumer<String> progress)
            throws IOException, InterruptedException {
        Files.createDirectories(logDir);
        SwitchRig rig = new SwitchRig(logDir, Files.createTempDirectory("lowmem-vnet-switch"), queuePairs);
        try {
            String namespace = "lvs-" + ProcessHandle.current().pid() + "-" + RIGS.incrementAndGet();
            progress.accept("host side: network namespace " + namespace + ", TAP lvs0 " + HostSide.HOST_ADDRESS + "/24");
            rig.host = HostSide.create(namespace, "lvs0", 1);
            for (int i = 0; i < guestCount; i++) {
                rig.sockets.add(rig.workDir.resolve("guest-" + i + ".sock"));
                rig.guests.add(null);
                rig.boots.add(0);
            }
            progress.accept("backend: vhost-user-net --switch --tap lvs0 --queues " + queuePairs + " on " + guestCount
                    + " sockets");
            rig.backend = Backend.startSwitch(rig.host, rig.sockets, queuePairs, logDir.resolve("backend.log"));
            for (int i = 0; i < guestCount; i++) {
                progress.accept("guest " + i + ": booting at " + address(i));
                rig.boot(i);
            }
            return rig;
        } catch (IOException | RuntimeException e) {
            rig.close();
            throw e;
        }
    }

    private static String address(int guest) {
        return "10.0.2." + (2 + guest);
    }

    /** Boots guest {@code i} on its socket, its console in a log of its own for each boot. */
    private void boot(int i) throws IOException, InterruptedException {
        int boot = boots.get(i) + 1;
        boots.set(i, boot);
        Path console = logDir.resolve("console-" + i + (boot > 1 ? "-boot" + boot : "") + ".log");
        guests.set(i, Guest.boot(new Guest.Config(sockets.get(i), "", 0, "", queuePairs, console, address(i),
                String.format("52:54:00:12:34:%02x", 0x56 + i))));
        backend.awaitNegotiated(NEGOTIATION_TIMEOUT);
    }

    /** Powers guest {@code i} off and boots it again on the same socket: its switch port goes and comes back. */
    public void reboot(int i) throws IOException, InterruptedException {
        guests.get(i).close();
        boot(i);
    }

    public Guest guest(int i) {
        return guests.get(i);
    }

    public Backend backend() {
        return backend;
    }

    /** Traffic between guest {@code i} and the host, across the switch's uplink. */
    public GuestTraffic withHost(int i) {
        return new GuestTraffic(host, guests.get(i), workDir, logDir);
    }

    /** Traffic from guest {@code from} to guest {@code to}, across the switch. */
    public BetweenGuests between(int from, int to) {
        return new BetweenGuests(guests.get(from), guests.get(to));
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try (var dir = new ScratchDirectory(workDir); var h = host; var b = backend; GuestsOff g = this::powerOffGuests) {
            // Closed in reverse: the guests, then the backend, the host side and the work directory.
        }
    }

    /** Closes as the guests are powered off: in try-with-resources beside the rig's other parts. */
    @FunctionalInterface
    private interface GuestsOff extends AutoCloseable {
        @Override
        void close() throws InterruptedException;
    }

    private void powerOffGuests() throws InterruptedException {
        for (Guest guest : guests) {
            if (guest != null) {
                guest.close();
            }
        }
    }
}
