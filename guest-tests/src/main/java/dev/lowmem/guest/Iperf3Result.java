package dev.lowmem.guest;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The summary of an iperf3 TCP test, from the client's text output: what the receiver got (bits
 * per second) and the sender's TCP retransmits (the "Retr" column of its summary line).
 */
public record Iperf3Result(double receivedBitsPerSecond, long retransmits) {
    // [  5]   0.00-10.00  sec   500 MBytes   419 Mbits/sec    3             sender
    private static final Pattern SUMMARY = Pattern.compile(
            "\\[\\s*(?:\\d+|SUM)\\]\\s+[\\d.]+-[\\d.]+\\s+sec\\s+[\\d.]+ \\w?Bytes\\s+([\\d.]+) (\\w?)bits/sec\\s+(\\d+)?\\s*(sender|receiver)");

    public static Iperf3Result parse(String output) {
        double received = Double.NaN;
        long retransmits = -1;
        Matcher summary = SUMMARY.matcher(output);
        while (summary.find()) {
            if (summary.group(4).equals("receiver")) {
                received = Double.parseDouble(summary.group(1)) * scale(summary.group(2));
            } else if (summary.group(3) != null) {
                retransmits = Long.parseLong(summary.group(3));
            }
        }
        if (Double.isNaN(received)) {
            throw new IllegalArgumentException("no iperf3 receiver summary in:\n" + output);
        }
        return new Iperf3Result(received, retransmits);
    }

    private static double scale(String prefix) {
        return switch (prefix) {
            case "" -> 1;
            case "K" -> 1e3;
            case "M" -> 1e6;
            case "G" -> 1e9;
            default -> throw new IllegalArgumentException("unit prefix " + prefix);
        };
    }

    public double megabitsPerSecond() {
        return receivedBitsPerSecond / 1e6;
    }

    public String summary() {
        return String.format("%.0f Mbit/s, %s retransmits", megabitsPerSecond(), retransmits < 0 ? "?" : retransmits);
    }
}
