package dev.lowmem.virtio;

import java.util.StringJoiner;
import java.util.function.IntFunction;

/** One bit of a 64-bit feature word: virtio's features and vhost-user's protocol features alike. */
public interface FeatureBit {
    int bit();

    default long mask() {
        return 1L << bit();
    }

    /** Whether this feature's bit is set in {@code features}. */
    default boolean in(long features) {
        return (features & mask()) != 0;
    }

    /** The word with the bits of {@code features} set. */
    static long maskOf(FeatureBit... features) {
        long bits = 0;
        for (FeatureBit feature : features) {
            bits |= feature.mask();
        }
        return bits;
    }

    /** "A | B | bit 41": each set bit by its name, or by its number where {@code byBit} has none. */
    static String describe(long bits, IntFunction<FeatureBit> byBit) {
        if (bits == 0) {
            return "none";
        }
        StringJoiner names = new StringJoiner(" | ");
        for (int bit = 0; bit < Long.SIZE; bit++) {
            if ((bits & (1L << bit)) != 0) {
                FeatureBit feature = byBit.apply(bit);
                names.add(feature != null ? feature.toString() : "bit " + bit);
            }
        }
        return names.toString();
    }
}
