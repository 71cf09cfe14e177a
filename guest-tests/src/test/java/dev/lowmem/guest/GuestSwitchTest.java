package dev.lowmem.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.guest.GuestTraffic.Direction;
import dev.lowmem.tools.bench.Iperf3Result;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Two guests on our backend's switch, each on a vhost-user socket of its own, the host on the
 * switch's TAP uplink: they ping, run iperf3 and send a checked 32 MiB file to each other, reach
 * the host, and one of them reboots while the other keeps a TCP stream to the host going.
 */
@Tag("guest")
@Tag("switch")
class GuestSwitchTest {
    private static final int PINGS = 3;
    private static final int IPERF3_SECONDS = 4;
    private static final int STREAM_SECONDS = 20;
    private static final long TRANSFER_BYTES = 32L << 20;

    @Test
    void twoGuestsTalkThroughTheSwitchAndToTheHost() throws Exception {
        try (SwitchRig rig = SwitchRig.start(GuestLogs.dirFor(GuestSwitchTest.class), 2, System.out::println)) {
            assertEquals(PINGS, rig.between(0, 1).ping(PINGS).received(), "guest 0 pings guest 1");
            assertEquals(PINGS, rig.between(1, 0).ping(PINGS).received(), "guest 1 pings guest 0");
            assertEquals(PINGS, rig.withHost(0).pingFromGuest(PINGS).received(), "guest 0 pings the host");
            assertEquals(PINGS, rig.withHost(1).pingFromHost(PINGS).received(), "the host pings guest 1");
            for (int from = 0; from < 2; from++) {
                Iperf3Result result = rig.between(from, 1 - from).iperf3(IPERF3_SECONDS);
                report("iperf3 guest " + from + " -> guest " + (1 - from), result.summary());
                assertTrue(result.receivedBitsPerSecond() > 0, result::summary);
            }
            // A guest that keeps its RX ring stocked takes most frames in one copy from the sender's buffers.
            BackendStats betweenGuests = rig.backend().stats();
            report("frames delivered in one copy", betweenGuests.get("frames_direct") + " of "
                    + betweenGuests.get("frames_out"));
            assertTrue(betweenGuests.get("frames_direct") > 0, betweenGuests::summary);
            GuestTraffic.Transfer transfer = rig.between(0, 1).send(TRANSFER_BYTES);
            report("nc " + transfer.route(), transfer.summary());
            assertTrue(transfer.intact(), transfer::summary);

            CompletableFuture<Iperf3Result> stream = CompletableFuture.supplyAsync(() -> {
                try {
                    return rig.withHost(0).iperf3(Direction.GUEST_TO_HOST, STREAM_SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException("guest 0's stream to the host", e);
                }
            });
            rig.reboot(1);
            Iperf3Result duringReboot = stream.get();
            report("iperf3 guest 0 -> host while guest 1 rebooted", duringReboot.summary());
            assertTrue(duringReboot.receivedBitsPerSecond() > 0, duringReboot::summary);
            assertEquals(PINGS, rig.between(0, 1).ping(PINGS).received(), "guest 0 pings guest 1 after its reboot");
            BackendStats stats = rig.backend().stats();
            report("backend counters", stats.summary());
            assertEquals(0, stats.faults(), stats::summary);
        }
    }

    private static void report(String what, String figures) {
        GuestReport.record(GuestSwitchTest.class, what, figures);
    }
}
