package dev.lowmem.guest;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What a (busybox) ping printed at its end: echoes sent and answered, round trips in ms. */
public record PingResult(int transmitted, int received, double minMs, double avgMs, double maxMs) {
    private static final Pattern COUNTS = Pattern.compile("(\\d+) packets transmitted, (\\d+) (?:packets )?received");
    private static final Pattern ROUND_TRIP = Pattern.compile("min/avg/max\\S* = ([\\d.]+)/([\\d.]+)/([\\d.]+)");

    public static PingResult parse(String output) {
        Matcher counts = COUNTS.matcher(output);
        if (!counts.find()) {
            throw new IllegalArgumentException("no ping summary in:\n" + output);
        }
        Matcher roundTrip = ROUND_TRIP.matcher(output);
        boolean answered = roundTrip.find();
        return new PingResult(Integer.parseInt(counts.group(1)), Integer.parseInt(counts.group(2)),
                answered ? Double.parseDouble(roundTrip.group(1)) : Double.NaN,
                answered ? Double.parseDouble(roundTrip.group(2)) : Double.NaN,
                answered ? Double.parseDouble(roundTrip.group(3)) : Double.NaN);
    }

    public String summary() {
        return String.format("%d/%d answered, rtt min/avg/max %.2f/%.2f/%.2f ms", received, transmitted, minMs, avgMs, maxMs);
    }
}
