package dev.lowmem.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.guest.GuestTraffic.Direction;
import dev.lowmem.tools.bench.Iperf3Result;
import dev.lowmem.tools.bench.SockperfResult;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * One guest with the driver's default features on our backend and a TAP: ping, UDP round trips
 * (sockperf), iperf3 and checked file transfers both ways, the driver restarted, the backend
 * restarted. The guest boots once for the class; each scenario is tagged so that it runs alone too
 * ({@code tools/bin/test -pl guest-tests -am -Dgroups=iperf3}).
 */
@Tag("guest")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GuestNetworkTest {
    private static final int PINGS = 5;
    private static final int ROUND_TRIP_SECONDS = 3;
    private static final int IPERF3_SECONDS = 10;
    private static final long TRANSFER_BYTES = 32L << 20;

    private static GuestRig rig;

    @BeforeAll
    static void boot() throws Exception {
        // QEMU reconnects every second when the backend goes: the restart scenario needs it.
        rig = GuestRig.start(GuestRig.Options.defaults(GuestLogs.dirFor(GuestNetworkTest.class)).withReconnect(1),
                System.out::println);
        report("negotiated", rig.negotiated());
    }

    @AfterAll
    static void shutDown() throws Exception {
        if (rig != null) {
            rig.close();
        }
    }

    @Test
    @Order(1)
    @Tag("ping")
    void pingsBothWays() throws Exception {
        BackendStats before = rig.backend().stats();

        PingResult fromGuest = rig.traffic().pingFromGuest(PINGS);
        PingResult fromHost = rig.traffic().pingFromHost(PINGS);

        report("ping guest -> host", fromGuest.summary());
        report("ping host -> guest", fromHost.summary());
        assertEquals(PINGS, fromGuest.received(), fromGuest.summary());
        assertEquals(PINGS, fromHost.received(), fromHost.summary());
        assertNoDrops(before);
    }

    /** UDP round trips as the bench times them: a row for the report, and a run that timed some. */
    @Test
    @Order(2)
    @Tag("latency")
    void udpRoundTrips() throws Exception {
        BackendStats before = rig.backend().stats();

        SockperfResult roundTrips = rig.traffic().roundTrips(ROUND_TRIP_SECONDS);

        report("sockperf guest -> host", roundTrips.summary());
        assertTrue(roundTrips.roundTrips() > 0, roundTrips::summary);
        assertTrue(roundTrips.medianUs() > 0, roundTrips::summary);
        assertNoDrops(before);
    }

    @Test
    @Order(3)
    @Tag("iperf3")
    void iperf3BothWays() throws Exception {
        BackendStats before = rig.backend().stats();
        for (Direction direction : Direction.values()) {
            Iperf3Result result = rig.traffic().iperf3(direction, IPERF3_SECONDS);
            report("iperf3 " + direction, result.summary());
            assertTrue(result.receivedBitsPerSecond() > 0, result::summary);
        }
        assertNoDrops(before);
    }

    @Test
    @Order(4)
    @Tag("integrity")
    void filesArriveIntactBothWays() throws Exception {
        BackendStats before = rig.backend().stats();
        for (GuestTraffic.Transfer transfer : new GuestTraffic.Transfer[] {
                rig.traffic().sendToHost(TRANSFER_BYTES), rig.traffic().sendToGuest(TRANSFER_BYTES)}) {
            report("nc " + transfer.route(), transfer.summary());
            assertTrue(transfer.intact(), transfer::summary);
        }
        assertNoDrops(before);
    }

    @Test
    @Order(5)
    @Tag("rebind")
    void trafficResumesAfterTheDriverRestarts() throws Exception {
        long features = rig.guest().features();
        BackendStats before = rig.backend().stats();
        Duration driverTimeout = Duration.ofSeconds(60);
        for (int round = 1; round <= 2; round++) {
            rig.guest().check(driverTimeout, "d=$(basename $(readlink /sys/class/net/eth0/device))"
                    + " && echo $d > /sys/bus/virtio/drivers/virtio_net/unbind && echo $d > /sys/bus/virtio/drivers/virtio_net/bind");
            assertEquals(features, rig.guest().networkUp(driverTimeout), "features after rebind " + round);
            rig.awaitNegotiation();
            assertEquals(PINGS, rig.traffic().pingFromGuest(PINGS).received(), "ping after rebind " + round);
        }
        for (int round = 1; round <= 2; round++) {
            rig.guest().check(driverTimeout, "rmmod virtio_net && insmod /lib/modules/virtio_net.ko");
            assertEquals(features, rig.guest().networkUp(driverTimeout), "features after reload " + round);
            rig.awaitNegotiation();
            assertEquals(PINGS, rig.traffic().pingFromGuest(PINGS).received(), "ping after module reload " + round);
        }
        Iperf3Result after = rig.traffic().iperf3(Direction.GUEST_TO_HOST, 3);
        report("iperf3 guest -> host after 4 driver restarts", after.summary());
        assertEquals(PINGS, rig.traffic().pingFromHost(PINGS).received());
        // Each restart stops the device (QEMU's SET_STATUS 0, then GET_VRING_BASE): a reset, never a fault.
        BackendStats grown = rig.backend().stats().since(before);
        assertEquals(0, grown.faults(), grown::summary);
    }

    @Test
    @Order(6)
    @Tag("restart")
    void trafficResumesAfterTheBackendRestarts() throws Exception {
        for (boolean crash : new boolean[] {false, true}) {
            rig.restartBackend(crash);
            PingResult ping = rig.traffic().pingFromGuest(PINGS);
            report("ping after the backend " + (crash ? "was killed" : "stopped") + " and started", ping.summary());
            assertTrue(ping.received() > 0, ping::summary);
            assertEquals(PINGS, rig.traffic().pingFromHost(PINGS).received(), "the host pings the guest");
        }
        Iperf3Result after = rig.traffic().iperf3(Direction.HOST_TO_GUEST, 3);
        report("iperf3 host -> guest after 2 backend restarts", after.summary());
        assertTrue(after.receivedBitsPerSecond() > 0);
    }

    /**
     * kill -9 of the back-end while 64 MiB go each way, and both transfers intact after it
     * restarts. QEMU's virtio-net never asks for an inflight buffer (GET_INFLIGHT_FD is
     * vhost-user-blk's and vhost-scsi's, docs/ARCHITECTURE.md "Inflight I/O tracking"): what the
     * guest relies on here is QEMU setting each ring's last_avail_idx back to its used index when
     * the back-end goes, so that the new back-end takes again every chain the dead one had popped
     * and not returned, and TCP resending what the dead one had taken from the TAP or the ring
     * and not delivered.
     */
    @Test
    @Order(7)
    @Tag("restart")
    void aTransferSurvivesTheBackendKilledInTheMiddle() throws Exception {
        PacedTransfers transfers = rig.startPacedTransfers(18);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (transfers.receivedFromGuest() < (4L << 20) && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        long atKill = transfers.receivedFromGuest();
        assertTrue(atKill > 0, "guest -> host bytes flow before the kill");
        rig.restartBackend(true);
        report("kill -9 during the transfers", atKill + " B of " + PacedTransfers.BYTES + " guest -> host had arrived;"
                + " host -> guest " + (transfers.hostSending() ? "still sending" : "done") + " when the new back-end negotiated");
        PacedTransfers.Result ended = transfers.finish(rig.guest(), rig.consoleLog());
        report("transfer across the kill", ended.toHost().summary());
        report("transfer across the kill", ended.toGuest().summary());
        assertEquals("0", ended.guestNcStatus(), "the guest's nc ended well");
        assertTrue(ended.toHost().intact(), ended.toHost()::summary);
        assertTrue(ended.toGuest().intact(), ended.toGuest()::summary);
    }

    private static void report(String what, String figures) {
        GuestReport.record(GuestNetworkTest.class, what, figures);
    }

    private static void assertNoDrops(BackendStats before) throws Exception {
        BackendStats grown = rig.backend().stats().since(before);
        report("backend counters", grown.summary());
        assertEquals(0, grown.drops(), grown::summary);
        assertEquals(0, grown.faults(), grown::summary);
    }
}
