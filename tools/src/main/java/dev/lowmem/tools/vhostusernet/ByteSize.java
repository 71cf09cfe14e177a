package dev.lowmem.tools.vhostusernet;

import java.util.Locale;

/**
 * A number of bytes as people write it on a command line: {@code 65536}, {@code 512K},
 * {@code 64M}, {@code 1G} (powers of 1024, as QEMU's {@code size=} and {@code -Xmx} read them).
 */
final class ByteSize {
    private ByteSize() {
    }

    static long parse(String text) {
        String trimmed = text.strip().toUpperCase(Locale.ROOT);
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("an empty size; write it as 65536, 512K, 64M or 1G");
        }
        char unit = trimmed.charAt(trimmed.length() - 1);
        int shift = switch (unit) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            default -> 0;
        };
        String digits = shift == 0 ? trimmed : trimmed.substring(0, trimmed.length() - 1);
        long value;
        try {
            value = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a size; write it as 65536, 512K, 64M or 1G");
        }
        if (value < 0 || value > Long.MAX_VALUE >> shift) {
            throw new IllegalArgumentException("'" + text + "' is outside 0.." + (Long.MAX_VALUE >> 30) + "G");
        }
        return value << shift;
    }

    /** 67108864 as "64M", 1536 as "1536": the largest unit that divides it. */
    static String format(long bytes) {
        if (bytes != 0 && bytes % (1L << 30) == 0) {
            return (bytes >> 30) + "G";
        }
        if (bytes != 0 && bytes % (1L << 20) == 0) {
            return (bytes >> 20) + "M";
        }
        if (bytes != 0 && bytes % (1L << 10) == 0) {
            return (bytes >> 10) + "K";
        }
        return Long.toString(bytes);
    }
}
