package dev.lowmem.tools.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the test guest timed on its boot-time clock (/proc/uptime's), read from its console: when
 * each iperf3 test began ({@code GUEST-CLOCK iperf3 NAME start_s=T}, guest-stress's iperf3_clock)
 * and when the squeeze module held memory ({@code GUEST-SQUEEZE-WINDOW N BEGIN_MS END_MS}, from the
 * module's log, guest-tests/guest-module/squeeze.c). With both, the squeezes fall on an iperf3
 * run's own clock, that of its intervals.
 */
public final class GuestClock {
    /** A squeeze: from {@code begin} to {@code end}, seconds. */
    public record Window(double begin, double end) {
        public Window shift(double by) {
            return new Window(begin + by, end + by);
        }
    }

    private static final Pattern WINDOW = Pattern.compile("(?m)^GUEST-SQUEEZE-WINDOW (\\d+) (\\d+) (\\d+)\\r?$");

    private GuestClock() {
    }

    /** When the iperf3 run {@code name} began, seconds since the guest booted; empty without its line. */
    public static OptionalDouble iperf3Start(String console, String name) {
        Matcher start = Pattern.compile("(?m)^GUEST-CLOCK iperf3 " + Pattern.quote(name) + " start_s=([\\d.]+)\\r?$")
                .matcher(console);
        return start.find() ? OptionalDouble.of(Double.parseDouble(start.group(1))) : OptionalDouble.empty();
    }

    /** The squeezes in their order, seconds since the guest booted; none without the module. */
    public static List<Window> squeezes(String console) {
        List<Window> windows = new ArrayList<>();
        Matcher window = WINDOW.matcher(console);
        while (window.find()) {
            windows.add(new Window(Long.parseLong(window.group(2)) / 1e3, Long.parseLong(window.group(3)) / 1e3));
        }
        return List.copyOf(windows);
    }

    /** The squeezes on the clock of the iperf3 run {@code name}: seconds from its test's start. */
    public static List<Window> squeezesDuring(String console, String name) {
        OptionalDouble start = iperf3Start(console, name);
        if (start.isEmpty()) {
            return List.of();
        }
        return squeezes(console).stream().map(w -> w.shift(-start.getAsDouble())).toList();
    }
}
