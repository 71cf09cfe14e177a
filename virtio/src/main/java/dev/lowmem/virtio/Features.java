package dev.lowmem.virtio;


/** Sets of {@link Feature} bits as the 64-bit words the device and driver exchange. */
public final class Features {
    private static final Feature[] BY_BIT = new Feature[64];

    static {
        for (Feature feature : Feature.values()) {
            BY_BIT[feature.bit()] = feature;
        }
    }

    private Features() {
    }

    public static long of(Feature... features) {
        return FeatureBit.maskOf(features);
    }

    /**
     * Checks the driver's acknowledgement: a driver may accept only features the device offered
     * (virtio 1.2, 2.2.1).
     *
     * @return {@code acked}
     * @throws FeatureNegotiationException naming every bit acked but not offered
     */
    public static long accept(long offered, long acked) throws FeatureNegotiationException {
        long unoffered = acked & ~offered;
        if (unoffered != 0) {
            throw new FeatureNegotiationException("the driver acked features the device did not offer: "
                    + describe(unoffered));
        }
        return acked;
    }

    /** "VERSION_1 | RING_EVENT_IDX | bit 41": each set bit by its spec name, or its number. */
    public static String describe(long bits) {
        return FeatureBit.describe(bits, bit -> BY_BIT[bit]);
    }
}
