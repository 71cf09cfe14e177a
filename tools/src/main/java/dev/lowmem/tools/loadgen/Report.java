package dev.lowmem.tools.loadgen;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A run's figures as people read them and as scripts parse them. Rates are per second of the
 * measured interval; Gbit/s counts Ethernet frame bytes only.
 */
final class Report {
    static final String BYTES_NOTE = "Gbit/s counts Ethernet frame bytes: no virtio-net header, FCS, preamble or"
            + " inter-frame gap";

    private Report() {
    }

    static double mpps(long frames, long nanos) {
        return nanos == 0 ? 0 : frames * 1e3 / nanos;
    }

    static double gbps(long bytes, long nanos) {
        return nanos == 0 ? 0 : bytes * 8.0 / nanos;
    }

    /** The lines for people: the run, a line per direction, per pair when there are several, the totals. */
    static List<String> lines(Result result) {
        LoadSettings settings = result.settings();
        Plan plan = result.plan();
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "loadgen: %s, %d queue %s, %s rings of %d, burst %d: %.2f s measured"
                        + " after %.2f s of warm-up", traffic(settings, plan), settings.queuePairs(),
                settings.queuePairs() == 1 ? "pair" : "pairs", plan.ring(), settings.queueSize(), settings.burst(),
                result.seconds(), settings.warmup().toNanos() / 1e9));
        lines.add(direction("  tx", result.window().txFrames(), result.window().txBytes(), result.nanos()));
        lines.add(direction("  rx", result.window().rxFrames(), result.window().rxBytes(), result.nanos()));
        if (result.pairWindows().size() > 1) {
            for (int pair = 0; pair < result.pairWindows().size(); pair++) {
                Counts counts = result.pairWindows().get(pair);
                lines.add(direction("    pair " + pair + " tx", counts.txFrames(), counts.txBytes(), result.nanos()));
                lines.add(direction("    pair " + pair + " rx", counts.rxFrames(), counts.rxBytes(), result.nanos()));
            }
        }
        lines.add("  " + BYTES_NOTE);
        Counts totals = result.totals();
        lines.add(String.format(Locale.ROOT, "  %.1f%% of the generator's rounds found nothing to do (near 0: the"
                + " generator was the limit; well above: the backend)", result.window().idlePercent()));
        lines.add(String.format(Locale.ROOT, "  since the rings started: tx %d posted, %d returned, %d left in flight;"
                        + " rx %d frames, %d bad; %d kicks, %d sleeps", totals.txPosted(), totals.txFrames(),
                totals.txInFlight(), totals.rxFrames(), totals.rxBad(), totals.kicks(), totals.wakeups()));
        return lines;
    }

    /** "tx of 64-byte frames", "both with 9000-byte TSO frames (MSS 1460)", "rx into 2048-byte buffers". */
    static String traffic(LoadSettings settings, Plan plan) {
        String buffers = plan.rxBufferLength() + "-byte " + (plan.mergeable() ? "mergeable " : "") + "buffers";
        if (!settings.mode().transmits()) {
            return "rx into " + buffers;
        }
        String frames = settings.frameSize() + "-byte " + (plan.txFrame() == FrameKind.TSO4
                ? "TSO frames (MSS " + plan.mss() + ")" : "frames");
        return settings.mode() == Mode.TX ? "tx of " + frames : "both: tx of " + frames + ", rx into " + buffers;
    }

    private static String direction(String label, long frames, long bytes, long nanos) {
        return String.format(Locale.ROOT, "%s %9.3f Mpps %9.3f Gbit/s %14d frames", label, mpps(frames, nanos),
                gbps(bytes, nanos), frames);
    }

    /**
     * The one line for scripts, {@code key=value} separated by spaces, the keys below in this
     * order; later versions add keys only at the end.
     */
    static String summary(Result result) {
        LoadSettings settings = result.settings();
        Plan plan = result.plan();
        Counts window = result.window();
        long nanos = result.nanos();
        return String.format(Locale.ROOT, "loadgen mode=%s size=%d ring=%s queues=%d seconds=%.2f"
                        + " tx_frames=%d tx_mpps=%.3f tx_gbps=%.3f rx_frames=%d rx_mpps=%.3f rx_gbps=%.3f"
                        + " tx_bytes=%d rx_bytes=%d frame=%s burst=%d queue_size=%d features=0x%x"
                        + " kicks=%d sleeps=%d rx_bad=%d tx_in_flight=%d idle_pct=%.1f",
                settings.mode().label(), settings.frameSize(), plan.ring(), settings.queuePairs(), result.seconds(),
                window.txFrames(), mpps(window.txFrames(), nanos), gbps(window.txBytes(), nanos),
                window.rxFrames(), mpps(window.rxFrames(), nanos), gbps(window.rxBytes(), nanos),
                window.txBytes(), window.rxBytes(), plan.txFrame().name().toLowerCase(Locale.ROOT), settings.burst(),
                settings.queueSize(), plan.features(), window.kicks(), window.wakeups(), result.totals().rxBad(),
                result.totals().txInFlight(), window.idlePercent());
    }

    /** A line a second while measuring, for people watching. */
    static String progress(double elapsedSeconds, Counts interval, long nanos) {
        return String.format(Locale.ROOT, "%7.2f s  tx %8.3f Mpps %8.3f Gbit/s  rx %8.3f Mpps %8.3f Gbit/s",
                elapsedSeconds, mpps(interval.txFrames(), nanos), gbps(interval.txBytes(), nanos),
                mpps(interval.rxFrames(), nanos), gbps(interval.rxBytes(), nanos));
    }
}
