package dev.lowmem.tools.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PlanTest {
    /** What our backend offers in front of a loopback. */
    private static final long OURS = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX, Feature.RING_INDIRECT_DESC,
            Feature.RING_PACKED, Feature.NET_MRG_RXBUF, Feature.NET_STATUS, Feature.NET_MAC, Feature.NET_MTU,
            Feature.NET_CSUM, Feature.NET_GUEST_CSUM, Feature.NET_HOST_TSO4, Feature.NET_GUEST_TSO4,
            Feature.VHOST_USER_PROTOCOL_FEATURES);
    /** Roughly what DPDK's net_vhost offers: no MTU in a config space, no TSO by default. */
    private static final long PLAIN = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_INDIRECT_DESC,
            Feature.VHOST_USER_PROTOCOL_FEATURES, Feature.NET_MQ);

    private static LoadSettings settings(Mode mode, int size) {
        return settings(mode, size, false, 1, true, true);
    }

    private static LoadSettings settings(Mode mode, int size, boolean packed, int pairs, boolean eventIdx,
            boolean mergeable) {
        return new LoadSettings(Path.of("/tmp/s"), false, mode, size, Duration.ofSeconds(1), Duration.ZERO, packed,
                pairs, 32, 256, eventIdx, mergeable);
    }

    @Test
    void takesRingFeaturesWhenOfferedAndNoOffloadForPlainFrames() throws Exception {
        Plan plan = Plan.choose(settings(Mode.BOTH, 64), new DeviceOffer(OURS, 1500, 1));

        assertEquals(Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX, Feature.NET_MRG_RXBUF, Feature.NET_MTU,
                Feature.VHOST_USER_PROTOCOL_FEATURES), plan.features());
        assertEquals(FrameKind.PLAIN, plan.txFrame());
        assertEquals(12, plan.headerSize());
        assertEquals(128, plan.txSlotLength());
        assertEquals(Plan.MIN_MERGEABLE_BUFFER, plan.rxBufferLength());
        assertTrue(plan.mergeable());
        assertEquals("split", plan.ring());
    }

    @Test
    void packedAndTheRefusalsAreTheUsers() throws Exception {
        Plan plan = Plan.choose(settings(Mode.TX, 64, true, 1, false, false), new DeviceOffer(OURS, 1500, 1));

        assertTrue(Feature.RING_PACKED.in(plan.features()));
        assertFalse(Feature.RING_EVENT_IDX.in(plan.features()));
        assertFalse(Feature.NET_MRG_RXBUF.in(plan.features()));
        assertEquals("packed", plan.ring());
    }

    @Test
    void packedNotOfferedIsRefusedNamingTheOption() {
        LoadgenException e = assertThrows(LoadgenException.class,
                () -> Plan.choose(settings(Mode.TX, 64, true, 1, true, true), new DeviceOffer(PLAIN, 0, 1)));

        assertTrue(e.getMessage().startsWith("--packed: that needs RING_PACKED, which the backend does not offer"),
                e.getMessage());
    }

    @Test
    void aLegacyOnlyBackendIsRefused() {
        LoadgenException e = assertThrows(LoadgenException.class,
                () -> Plan.choose(settings(Mode.TX, 64), new DeviceOffer(Feature.NET_MRG_RXBUF.mask(), 0, 1)));

        assertTrue(e.getMessage().contains("does not offer VERSION_1"), e.getMessage());
    }

    @Test
    void framesUpToTheMtuAreSentPlainAndLongerOnesAsTso() throws Exception {
        assertEquals(FrameKind.PLAIN, Plan.choose(settings(Mode.TX, 1514), new DeviceOffer(OURS, 1500, 1)).txFrame());
        assertEquals(FrameKind.PLAIN, Plan.choose(settings(Mode.TX, 9014), new DeviceOffer(OURS, 9000, 1)).txFrame());

        Plan tso = Plan.choose(settings(Mode.TX, 1515), new DeviceOffer(OURS, 1500, 1));

        assertEquals(FrameKind.TSO4, tso.txFrame());
        assertEquals(1460, tso.mss());
        assertTrue(Feature.NET_CSUM.in(tso.features()));
        assertTrue(Feature.NET_HOST_TSO4.in(tso.features()));
        assertFalse(Feature.NET_GUEST_TSO4.in(tso.features()), "tx alone receives nothing");
    }

    @Test
    void withoutAnMtuOnOfferFifteenHundredIsAssumed() throws Exception {
        Plan plan = Plan.choose(settings(Mode.TX, 1515), new DeviceOffer(OURS & ~Feature.NET_MTU.mask(), 9000, 1));

        assertEquals(1500, plan.mtu());
        assertEquals(FrameKind.TSO4, plan.txFrame());
    }

    @Test
    void bothWithTsoTakesTheGuestOffloadsSoThatALoopbackCanReturnTheFrames() throws Exception {
        Plan plan = Plan.choose(settings(Mode.BOTH, 65536), new DeviceOffer(OURS, 1500, 1));

        assertTrue(Feature.NET_GUEST_CSUM.in(plan.features()));
        assertTrue(Feature.NET_GUEST_TSO4.in(plan.features()));
        assertEquals(65600, plan.rxBufferLength(), "a mergeable buffer grows to the expected frame");
    }

    @Test
    void tsoWithoutTheOffloadsOnOfferIsRefusedSayingWhy() {
        LoadgenException e = assertThrows(LoadgenException.class,
                () -> Plan.choose(settings(Mode.TX, 9000), new DeviceOffer(PLAIN, 0, 1)));

        assertTrue(e.getMessage().startsWith("--size 9000 is more than the device's MTU of 1500 plus the 14-byte"
                + " Ethernet header, so TX sends TSO frames: that needs NET_CSUM"), e.getMessage());
    }

    @Test
    void rxTakesAnySizeWithoutOffloads() throws Exception {
        Plan plan = Plan.choose(settings(Mode.RX, 9000), new DeviceOffer(PLAIN, 0, 1));

        assertEquals(FrameKind.PLAIN, plan.txFrame());
        assertEquals(9024, plan.rxBufferLength());
    }

    @Test
    void withoutMergeableBuffersEveryBufferHoldsTheLargestFrameTheDeviceMaySend() throws Exception {
        DeviceOffer offer = new DeviceOffer(OURS, 9000, 1);

        assertEquals(9088, Plan.choose(settings(Mode.RX, 64, false, 1, true, false), offer).rxBufferLength(),
                "12 + 9000 + 18, to 64 bytes");
        assertEquals(65600, Plan.choose(settings(Mode.BOTH, 65536, false, 1, true, false),
                new DeviceOffer(OURS, 1500, 1)).rxBufferLength(), "12 + 65535 + 18 with GUEST_TSO4, to 64 bytes");
    }

    @Test
    void severalPairsNeedMultiqueueAndEnoughPairs() throws Exception {
        assertTrue(Feature.NET_MQ.in(Plan.choose(settings(Mode.TX, 64, false, 2, true, true),
                new DeviceOffer(PLAIN, 0, 2)).features()));

        LoadgenException tooMany = assertThrows(LoadgenException.class,
                () -> Plan.choose(settings(Mode.TX, 64, false, 4, true, true), new DeviceOffer(PLAIN, 0, 2)));
        assertEquals("--queues 4: the backend serves 2 queue pairs", tooMany.getMessage());
        LoadgenException noMq = assertThrows(LoadgenException.class,
                () -> Plan.choose(settings(Mode.TX, 64, false, 2, true, true), new DeviceOffer(OURS, 1500, 1)));
        assertTrue(noMq.getMessage().startsWith("--queues 2: that needs NET_MQ"), noMq.getMessage());
    }
}
