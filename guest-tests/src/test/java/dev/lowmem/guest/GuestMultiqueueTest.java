package dev.lowmem.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.guest.GuestTraffic.Direction;
import dev.lowmem.tools.bench.Iperf3Result;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A guest with two queue pairs and two vCPUs, as a user starts one (our {@code --queues 2};
 * QEMU's {@code queues=2}, {@code mq=on}, {@code -smp 2}), on a multi-queue TAP and on the
 * switch with the host behind its uplink: QEMU keeps a vhost device per pair on one connection,
 * each negotiating and adding guest memory on its own. The guest's driver must bring both pairs
 * up, and iperf3 with four streams and checked transfers each way must move frames on every
 * pair: the TAP's kernel spreads the host's connections over its queues, the switch by their
 * flow hash.
 */
@Tag("guest")
@Tag("multiqueue")
class GuestMultiqueueTest {
    private static final int PAIRS = 2;
    private static final int STREAMS = 4;
    private static final int IPERF3_SECONDS = 4;
    private static final long TRANSFER_BYTES = 16L << 20;
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    /** All of them hashed to one of two queues: odds of 2^-15. */
    private static final int HOST_FLOWS = 16;

    @Test
    void everyQueuePairCarriesTheGuestsTrafficBothWaysOnATap() throws Exception {
        GuestRig.Options options = GuestRig.Options.defaults(GuestLogs.dirFor(GuestMultiqueueTest.class, "tap"))
                .withQueuePairs(PAIRS);
        try (GuestRig rig = GuestRig.start(options, System.out::println)) {
            assertTrue(rig.negotiated().contains("NET_MQ"), rig.negotiated());
            everyPairCarriesTraffic("tap", rig.guest(), rig.traffic(), rig.backend());
        }
    }

    @Test
    void everyQueuePairCarriesTheGuestsTrafficBothWaysOnTheSwitch() throws Exception {
        try (SwitchRig rig = SwitchRig.start(GuestLogs.dirFor(GuestMultiqueueTest.class, "switch"), 1, PAIRS,
                System.out::println)) {
            everyPairCarriesTraffic("switch", rig.guest(0), rig.withHost(0), rig.backend());
        }
    }

    /**
     * A 1-vCPU guest on two pairs uses one (Linux's virtio_net takes a pair per online CPU), and
     * QEMU leaves the other pair's rings disabled: the host's flows, which the TAP's kernel
     * spreads over its queues by hash, must all reach the guest, none stranded in the queue of the
     * pair nobody serves.
     */
    @Test
    void aGuestUsingOneOfTwoPairsGetsEveryOneOfTheHostsFlows() throws Exception {
        GuestRig.Options options = GuestRig.Options.defaults(GuestLogs.dirFor(GuestMultiqueueTest.class, "one-vcpu"))
                .withQueuePairs(PAIRS).withVcpus(1);
        try (GuestRig rig = GuestRig.start(options, System.out::println)) {
            String queues = rig.guest().check(COMMAND_TIMEOUT, "ls /sys/class/net/eth0/queues").strip();
            assertEquals(List.of("rx-0", "tx-0"), List.of(queues.split("\\s+")), "the guest's queues");
            long arrived = rig.traffic().datagramsFromHostInSeparateFlows(HOST_FLOWS);
            report("tap, 1 vCPU: datagrams from the host, each a flow of its own", arrived + " of " + HOST_FLOWS
                    + " reached the guest");
            assertEquals(HOST_FLOWS, arrived);
        }
    }

    private static void everyPairCarriesTraffic(String port, Guest guest, GuestTraffic traffic, Backend backend)
            throws Exception {
        // The kernel keeps a queue's sysfs entry only while the driver uses it.
        String queues = guest.check(COMMAND_TIMEOUT, "ls /sys/class/net/eth0/queues").strip();
        assertEquals(List.of("rx-0", "rx-1", "tx-0", "tx-1"), List.of(queues.split("\\s+")), "the guest's queues");

        BackendStats before = backend.stats();
        for (Direction direction : Direction.values()) {
            Iperf3Result result = traffic.iperf3(direction, IPERF3_SECONDS, STREAMS);
            report(port + ": iperf3 -P " + STREAMS + " " + direction, result.summary());
            assertTrue(result.receivedBitsPerSecond() > 0, result::summary);
        }
        for (GuestTraffic.Transfer transfer : List.of(traffic.sendToHost(TRANSFER_BYTES),
                traffic.sendToGuest(TRANSFER_BYTES))) {
            assertTrue(transfer.intact(), transfer::summary);
        }
        BackendStats grown = backend.stats().since(before);
        for (int pair = 0; pair < PAIRS; pair++) {
            String frames = "tx " + grown.pair(pair, "tx_frames") + " frames, rx " + grown.pair(pair, "rx_frames")
                    + " frames";
            report(port + ": pair " + pair, frames);
            assertTrue(grown.pair(pair, "tx_frames") > 0 && grown.pair(pair, "rx_frames") > 0,
                    "pair " + pair + " carried " + frames);
        }
        assertEquals(0, grown.drops(), grown::summary);
        assertEquals(0, grown.faults(), grown::summary);
    }

    private static void report(String what, String figures) {
        GuestReport.record(GuestMultiqueueTest.class, what, figures);
    }
}
