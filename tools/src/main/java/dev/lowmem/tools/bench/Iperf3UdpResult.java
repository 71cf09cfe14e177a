package dev.lowmem.tools.bench;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The receiver's summary of an iperf3 UDP test, from the client's text output: its rate and the
 * datagrams it lost of those sent. With -R the client is the receiver; the stress script's guest
 * runs one beside its iperf3 -R (guest-stress udp_stream).
 */
public record Iperf3UdpResult(double receivedBitsPerSecond, long lost, long total) {
    // [  5]   0.00-4.00   sec  14.2 MBytes  29.8 Mbits/sec  0.050 ms  60/10358 (0.58%)  receiver
    private static final Pattern RECEIVER = Pattern.compile(
            "\\[\\s*(?:\\d+|SUM)\\]\\s+[\\d.]+-[\\d.]+\\s+sec\\s+[\\d.]+ \\w?Bytes\\s+([\\d.]+) (\\w?)bits/sec\\s+"
                    + "[\\d.]+ ms\\s+(\\d+)/(\\d+) \\([^)]*\\)\\s+receiver");

    /** The receiver's summary of the run between {@code === iperf3 NAME begin/end ===} in a console log. */
    public static Iperf3UdpResult ofConsole(String console, String name) {
        return parse(ConsoleSection.of(console, "iperf3 " + name));
    }

    public static Iperf3UdpResult parse(String output) {
        Matcher receiver = RECEIVER.matcher(output);
        if (!receiver.find()) {
            throw new IllegalArgumentException("no iperf3 UDP receiver summary in:\n" + output);
        }
        double scale = switch (receiver.group(2)) {
            case "" -> 1;
            case "K" -> 1e3;
            case "M" -> 1e6;
            case "G" -> 1e9;
            default -> throw new IllegalArgumentException("unit prefix " + receiver.group(2));
        };
        return new Iperf3UdpResult(Double.parseDouble(receiver.group(1)) * scale, Long.parseLong(receiver.group(3)),
                Long.parseLong(receiver.group(4)));
    }

    public double lossPercent() {
        return total == 0 ? 0 : 100.0 * lost / total;
    }

    /** "MBIT_S LOST TOTAL LOSS_PERCENT": "29.8 60 10358 0.58". */
    public String figures() {
        return String.format(Locale.ROOT, "%.1f %d %d %.2f", receivedBitsPerSecond / 1e6, lost, total, lossPercent());
    }
}
