package dev.lowmem.tools.bench;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Optional;

/**
 * A front-end's rate in tools/bench's testpmd part, "MPPS GBIT_S", from the line it printed:
 * testpmd-frontend's {@code testpmd role=frontend ...} (packets and bytes of one direction over its
 * {@code seconds=}) or our load generator's {@code loadgen ...} (its Mpps of one direction; Gbit/s
 * are frames of the size asked, without the virtio-net header, CRC or wire framing).
 */
public final class FrontendRate {
    private FrontendRate() {
    }

    /** From testpmd-frontend's output; {@code counted} is rx or tx: which of the port's counters. */
    public static String ofTestpmd(String output, String counted) {
        String line = firstLine(output, "testpmd role=frontend ");
        double packets = number(line, counted + "_packets");
        double bytes = number(line, counted + "_bytes");
        double seconds = number(line, "seconds");
        return figures(packets / seconds / 1e6, bytes * 8 / seconds / 1e9);
    }

    /** From loadgen's output; {@code counted} is rx or tx, {@code size} the frame size in bytes. */
    public static String ofLoadgen(String output, String counted, int size) {
        double mpps = number(firstLine(output, "loadgen "), counted + "_mpps");
        return figures(mpps, mpps * size * 8 / 1e3);
    }

    /**
     * Two figures with six decimals, the double's exact value rounded half to even, as C's printf
     * (and the awk this replaces) rounds: {@code String.format} rounds a shorter decimal half up.
     */
    static String figures(double first, double second) {
        return sixDecimals(first) + " " + sixDecimals(second);
    }

    private static String sixDecimals(double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException("not a finite rate: " + value);
        }
        return new BigDecimal(value).setScale(6, RoundingMode.HALF_EVEN).toPlainString();
    }

    private static String firstLine(String output, String prefix) {
        return output.lines().filter(line -> line.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no line starting \"" + prefix.strip() + "\""));
    }

    private static double number(String line, String key) {
        Optional<String> value = java.util.Arrays.stream(line.split("\\s+"))
                .filter(word -> word.startsWith(key + "=")).findFirst().map(word -> word.substring(key.length() + 1));
        try {
            return Double.parseDouble(value.orElseThrow(() -> new IllegalArgumentException("no " + key + "= in: " + line)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "=" + value.get() + " is not a number, in: " + line, e);
        }
    }
}
