package dev.lowmem.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.tools.bench.Iperf3Result;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * QEMU listens on the vhost-user socket ({@code server=on}) and the backend connects to it
 * ({@code --client}), the way a backend is restarted under running guests without QEMU's own
 * reconnect timer: killed twice, and each new backend takes over the guest's rings, its network
 * back within the ping that follows, and a file crosses each way intact afterwards.
 */
@Tag("guest")
@Tag("client")
class GuestClientModeTest {
    private static final int PINGS = 5;
    private static final int KILLS = 2;
    private static final long TRANSFER_BYTES = 16L << 20;
    private static final int IPERF3_SECONDS = 3;

    @Test
    void aGuestKeepsItsNetworkAcrossBackendsThatConnectToQemu() throws Exception {
        try (GuestRig rig = startQemuListening()) {
            assertEquals(PINGS, rig.traffic().pingFromGuest(PINGS).received(), "the first backend");
            for (int kill = 1; kill <= KILLS; kill++) {
                rig.restartBackend(true);
                PingResult ping = rig.traffic().pingFromGuest(PINGS);
                report("ping after kill -9 " + kill + " and a new --client backend", ping.summary());
                assertTrue(ping.received() > 0, ping::summary);
                assertEquals(PINGS, rig.traffic().pingFromHost(PINGS).received(), "the host pings the guest");
            }
            for (GuestTraffic.Transfer transfer : List.of(rig.traffic().sendToHost(TRANSFER_BYTES),
                    rig.traffic().sendToGuest(TRANSFER_BYTES))) {
                report("nc " + transfer.route() + " after " + KILLS + " kills", transfer.summary());
                assertTrue(transfer.intact(), transfer::summary);
            }
            BackendStats stats = rig.backend().stats();
            report("the last backend's counters", stats.summary());
            assertEquals(0, stats.faults(), stats::summary);
        }
    }

    /**
     * The other side of the restart: QEMU killed with SIGKILL under a running {@code --client}
     * backend, and a new QEMU (a new guest) started listening on the same socket path. The same
     * backend process, never restarted, connects to it on its own, negotiates, and serves it: ping
     * each way and a short iperf3 each way.
     */
    @Test
    void theSameBackendConnectsToANewQemuAfterTheFirstIsKilled() throws Exception {
        try (GuestRig rig = startQemuListening()) {
            assertEquals(PINGS, rig.traffic().pingFromGuest(PINGS).received(), "the first QEMU's guest");
            Backend backend = rig.backend();
            long started = System.nanoTime();
            rig.restartGuest();
            report("QEMU killed, a new one on the same path: booted and negotiated with the same backend in",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms");
            assertSame(backend, rig.backend(), "the backend was not restarted");
            assertTrue(backend.isAlive(), "and it still runs");

            PingResult ping = rig.traffic().pingFromGuest(PINGS);
            report("ping from the second QEMU's guest", ping.summary());
            assertEquals(PINGS, ping.received(), ping::summary);
            assertEquals(PINGS, rig.traffic().pingFromHost(PINGS).received(), "the host pings the new guest");
            for (GuestTraffic.Direction direction : GuestTraffic.Direction.values()) {
                Iperf3Result iperf3 = rig.traffic().iperf3(direction, IPERF3_SECONDS);
                report("iperf3 " + direction + " " + IPERF3_SECONDS + " s, second QEMU", iperf3.summary());
                assertTrue(iperf3.receivedBitsPerSecond() > 0, iperf3::summary);
            }
            BackendStats stats = backend.stats();
            report("the backend's counters after both QEMUs", stats.summary());
            assertEquals(0, stats.faults(), stats::summary);
        }
    }

    /** QEMU listening on the socket ({@code server=on}), the backend connecting to it ({@code --client}). */
    private static GuestRig startQemuListening() throws Exception {
        return GuestRig.start(GuestRig.Options.defaults(GuestLogs.dirFor(GuestClientModeTest.class)).withBackendConnecting(),
                System.out::println);
    }

        private static void report(String what, String figures) {
        GuestReport.record(GuestClientModeTest.class, what, figures);
    }
}
