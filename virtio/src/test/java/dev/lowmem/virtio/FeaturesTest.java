package dev.lowmem.virtio;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FeaturesTest {

    @Test
    void bitsAreTheSpecsNumbers() {
        assertEquals(1L << 32, Feature.VERSION_1.mask());
        assertEquals(1L << 29, Feature.RING_EVENT_IDX.mask());
        assertEquals(1L << 28, Feature.RING_INDIRECT_DESC.mask());
        assertEquals(1L << 34, Feature.RING_PACKED.mask());
        assertEquals(1L << 35, Feature.IN_ORDER.mask());
        assertEquals(1L << 15, Feature.NET_MRG_RXBUF.mask());
        assertEquals(1L << 30, Feature.VHOST_USER_PROTOCOL_FEATURES.mask());
    }

    @Test
    void noTwoFeaturesShareABit() {
        Set<Integer> bits = new HashSet<>();
        for (Feature feature : Feature.values()) {
            assertTrue(bits.add(feature.bit()), feature + " reuses bit " + feature.bit());
        }
    }

    @Test
    void aSetHoldsExactlyItsFeatures() {
        long features = Features.of(Feature.VERSION_1, Feature.NET_MAC);
        assertTrue(Feature.VERSION_1.in(features));
        assertTrue(Feature.NET_MAC.in(features));
        assertFalse(Feature.RING_PACKED.in(features));
    }

    @Test
    void describeNamesKnownBitsAndNumbersUnknownOnes() {
        assertEquals("NET_CSUM | RING_EVENT_IDX | VERSION_1 | bit 41",
                Features.describe(Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX, Feature.NET_CSUM) | 1L << 41));
        assertEquals("none", Features.describe(0));
    }

    @Test
    void theDriverMayAcceptASubsetOfTheOffer() throws Exception {
        long offered = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX, Feature.NET_MRG_RXBUF);
        long acked = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF);
        assertEquals(acked, Features.accept(offered, acked));
    }

    @Test
    void aFeatureNotOfferedIsRefusedByName() {
        long offered = Features.of(Feature.VERSION_1);
        FeatureNegotiationException refused = assertThrows(FeatureNegotiationException.class,
                () -> Features.accept(offered, Features.of(Feature.VERSION_1, Feature.RING_PACKED)));
        assertEquals("the driver acked features the device did not offer: RING_PACKED", refused.getMessage());
    }
}
