package dev.lowmem.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
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

    @Test
    void aGuestKeepsItsNetworkAcrossBackendsThatConnectToQemu() throws Exception {
        GuestRig.Options options = GuestRig.Options.defaults(GuestLogs.dirFor(GuestClientModeTest.class))
                .withBackendConnecting();
        try (GuestRig rig = GuestRig.start(options, System.out::println)) {
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

    private static void report(String what, String figures) {
        GuestReport.record(GuestClientModeTest.class, what, figures);
    }
}
