package dev.lowmem.tools.bench;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The summary of an iperf3 TCP test, from the client's text output: what the receiver got (bits
 * per second) and the sender's TCP retransmits (the "Retr" column of its summary line; -1 when the
 * line has none). The bench reads it from a guest's console (tools/bench), the guest tests from the
 * guest's shell.
 */
public record Iperf3Result(double receivedBitsPerSecond, long retransmits) {
    // [  5]   0.00-10.00  sec   500 MBytes   419 Mbits/sec    3             sender
    private static final Pattern SUMMARY = Pattern.compile(
            "\\[\\s*(?:\\d+|SUM)\\]\\s+[\\d.]+-[\\d.]+\\s+sec\\s+[\\d.]+ \\w?Bytes\\s+([\\d.]+) (\\w?)bits/sec\\s+(\\d+)?\\s*(sender|receiver)");

    private static final String SERVER_OUTPUT = "Server output:";

    /**
     * The client's summary of the run between {@code === iperf3 begin/end ===} in a console log, or
     * {@code === iperf3 NAME begin/end ===} when {@code name} is not null; the server's lines that
     * follow {@code --get-server-output}'s "Server output:" are not the client's.
     */
    public static Iperf3Result ofConsole(String console, String name) {
        String section = ConsoleSection.of(console, name == null ? "iperf3" : "iperf3 " + name);
        int server = section.indexOf(SERVER_OUTPUT);
        return parse(server < 0 ? section : section.substring(0, server));
    }

    /** The client's summary in {@code output}, the client's lines alone. */
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

    /** "MBIT_S RETRANSMITS", what the bench records: "2370.0 17", "2370.0 ?" without the sender's column. */
    public String figures() {
        return String.format(java.util.Locale.ROOT, "%.1f %s", megabitsPerSecond(), retransmits < 0 ? "?" : retransmits);
    }

    public String summary() {
        return String.format("%.0f Mbit/s, %s retransmits", megabitsPerSecond(), retransmits < 0 ? "?" : retransmits);
    }
}
