package dev.lowmem.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.guest.GuestTraffic.Direction;
import dev.lowmem.tools.bench.Iperf3Result;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each choice the guest's device can make that changes our datapath, one guest per variant: the
 * features really negotiated are checked, then ping, iperf3 and a checked transfer run both ways.
 */
@Tag("guest")
@Tag("variants")
class GuestVariantsTest {
    private static final int PINGS = 3;
    private static final int IPERF3_SECONDS = 3;
    private static final long TRANSFER_BYTES = 8L << 20;

    /** QEMU virtio-net-pci properties, and the features they must take away or add. */
    enum Variant {
        NO_MERGEABLE_RX_BUFFERS("mrg_rxbuf=off", List.of("NET_MRG_RXBUF"), List.of()),
        NO_EVENT_IDX("event_idx=off", List.of("RING_EVENT_IDX"), List.of()),
        NO_INDIRECT_DESCRIPTORS("indirect_desc=off", List.of("RING_INDIRECT_DESC"), List.of()),
        PACKED_RING("packed=on", List.of(), List.of("RING_PACKED")),
        NO_CHECKSUM_OR_TSO_OFFLOAD(
                "csum=off,guest_csum=off,host_tso4=off,host_tso6=off,host_ecn=off,host_ufo=off,"
                        + "guest_tso4=off,guest_tso6=off,guest_ecn=off,guest_ufo=off",
                List.of("NET_CSUM", "NET_GUEST_CSUM", "NET_HOST_TSO4", "NET_GUEST_TSO4"), List.of());

        final String deviceOptions;
        final List<String> absent;
        final List<String> present;

        Variant(String deviceOptions, List<String> absent, List<String> present) {
            this.deviceOptions = deviceOptions;
            this.absent = absent;
            this.present = present;
        }
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void trafficFlowsBothWays(Variant variant) throws Exception {
        GuestRig.Options options = GuestRig.Options.defaults(GuestLogs.dirFor(GuestVariantsTest.class, variant.name()))
                .withDeviceOptions(variant.deviceOptions);
        try (GuestRig rig = GuestRig.start(options, System.out::println)) {
            Set<String> negotiated = Set.of(rig.negotiated().split(" \\| "));
            report(variant, "negotiated", rig.negotiated());
            variant.absent.forEach(feature -> assertTrue(!negotiated.contains(feature), feature + " negotiated"));
            variant.present.forEach(feature -> assertTrue(negotiated.contains(feature), feature + " not negotiated"));

            assertEquals(PINGS, rig.traffic().pingFromGuest(PINGS).received(), "ping guest -> host");
            assertEquals(PINGS, rig.traffic().pingFromHost(PINGS).received(), "ping host -> guest");
            for (Direction direction : Direction.values()) {
                Iperf3Result result = rig.traffic().iperf3(direction, IPERF3_SECONDS);
                report(variant, "iperf3 " + direction, result.summary());
            }
            for (GuestTraffic.Transfer transfer : List.of(rig.traffic().sendToHost(TRANSFER_BYTES), rig.traffic().sendToGuest(TRANSFER_BYTES))) {
                assertTrue(transfer.intact(), transfer::summary);
            }
            BackendStats stats = rig.backend().stats();
            report(variant, "backend counters", stats.summary());
            assertEquals(0, stats.drops(), stats::summary);
        }
    }

    private static void report(Variant variant, String what, String figures) {
        GuestReport.record(GuestVariantsTest.class, variant.name().toLowerCase() + ": " + what, figures);
    }
}
