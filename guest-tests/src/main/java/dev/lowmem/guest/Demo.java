package dev.lowmem.guest;

import dev.lowmem.guest.GuestTraffic.Direction;
import dev.lowmem.tools.bench.SockperfResult;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * tools/bin/demo: a Debian guest in QEMU on our backend and a TAP, then a short table of what it
 * did: the features negotiated, ping round trips, UDP round trips as the bench times them (sockperf
 * ping-pong), iperf3 both ways, and the backend's counters.
 * Progress goes to standard error, the table to standard output.
 */
public final class Demo {
    private static final int PINGS = 5;
    private static final int ROUND_TRIP_SECONDS = 3;
    private static final int DEFAULT_IPERF3_SECONDS = 5;

    private final PrintStream progress;
    private final long started = System.nanoTime();

    private Demo(PrintStream progress) {
        this.progress = progress;
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : DEFAULT_IPERF3_SECONDS;
        Path logs = Path.of(System.getProperty("java.io.tmpdir"), "lowmem-vnet-demo");
        System.out.print(new Demo(System.err).run(seconds, logs).table(logs));
    }

    /** What the demo saw; the counters once at the end and as they grew during iperf3. */
    private record Seen(String accelerator, String negotiated, PingResult fromGuest, PingResult fromHost,
            SockperfResult roundTrips, List<String> iperf3, BackendStats counters, BackendStats duringIperf3) {

        String table(Path logs) {
            StringBuilder table = new StringBuilder("\n");
            row(table, "guest", "Debian 6.1 kernel, busybox, iperf3 and sockperf, in QEMU (" + accelerator + "), virtio-net-pci on vhost-user");
            row(table, "backend", "tools/bin/vhost-user-net --tap lvg0 (TAP in its own network namespace, host 10.0.2.1)");
            row(table, "negotiated", negotiated);
            row(table, "ping", String.format("%-14s %s", "guest -> host", fromGuest.summary()));
            row(table, "", String.format("%-14s %s", "host -> guest", fromHost.summary()));
            row(table, "round trips", String.format("%-14s UDP, %s", Direction.GUEST_TO_HOST, roundTrips.summary()));
            row(table, "iperf3", iperf3.get(0));
            iperf3.stream().skip(1).forEach(line -> row(table, "", line));
            row(table, "counters", String.format("tx %d frames %d B, rx %d frames %d B", counters.get("tx_frames"),
                    counters.get("tx_bytes"), counters.get("rx_frames"), counters.get("rx_bytes")));
            row(table, "", String.format("kicks tx %d rx %d, interrupts tx %d rx %d, rx starved %d, drops %d",
                    counters.get("tx_kicks"), counters.get("rx_kicks"), counters.get("tx_interrupts"),
                    counters.get("rx_interrupts"), counters.get("rx_starved"), counters.drops()));
            row(table, "heap", String.format("the worker allocated %d B during iperf3's %d frames (%d B since it started), %d gc",
                    duringIperf3.get("worker_alloc_bytes"), duringIperf3.get("tx_frames") + duringIperf3.get("rx_frames"),
                    counters.get("worker_alloc_bytes"), counters.get("gc_collections")));
            row(table, "logs", logs + " (console.log, backend-1.log)");
            return table.toString();
        }

        private static void row(StringBuilder table, String label, String value) {
            table.append(String.format("  %-11s %s%n", label, value));
        }
    }

    private Seen run(int seconds, Path logs) throws Exception {
        step("guest image: checking the cache (the first build downloads a Debian kernel package, ~10 s)");
        step("guest image: " + GuestImage.ensureBuilt());
        try (GuestRig rig = GuestRig.start(GuestRig.Options.defaults(logs), this::step)) {
            step("guest up (QEMU under " + rig.guest().accelerator() + "); ping both ways");
            PingResult fromGuest = rig.traffic().pingFromGuest(PINGS);
            PingResult fromHost = rig.traffic().pingFromHost(PINGS);
            step("UDP round trips, sockperf ping-pong from the guest, " + ROUND_TRIP_SECONDS + " s");
            SockperfResult roundTrips = rig.traffic().roundTrips(ROUND_TRIP_SECONDS);
            BackendStats beforeIperf3 = rig.backend().stats();
            List<String> iperf3 = new ArrayList<>();
            for (Direction direction : Direction.values()) {
                step("iperf3 " + direction + ", " + seconds + " s");
                iperf3.add(String.format("%-14s %s", direction, rig.traffic().iperf3(direction, seconds).summary()));
            }
            BackendStats counters = rig.backend().stats();
            step("done; powering the guest off");
            return new Seen(rig.guest().accelerator(), rig.negotiated(), fromGuest, fromHost, roundTrips, iperf3, counters,
                    counters.since(beforeIperf3));
        }
    }

    private void step(String what) {
        progress.printf("[%5.1fs] %s%n", (System.nanoTime() - started) / 1e9, what);
    }
}
