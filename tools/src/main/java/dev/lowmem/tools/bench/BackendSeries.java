package dev.lowmem.tools.bench;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Our back-end's JSON stats lines (vhost-user-net --stats-format json --stats-interval S) around
 * a change made while it ran (stress-backend-memory raises its pool budget): a row from one line
 * to a later one, its time from the change and what the counters did between them.
 */
public final class BackendSeries {
    /** The counters a row shows the growth of, in its columns' order. */
    static final List<String> COUNTED = List.of("rx_held", "rx_pool_refused", "pool_budget_failures", "pool_native_failures",
            "host_drops", "drops", "rx_backlog_full");
    static final List<String> HEADER = List.of("s from the raise", "Mbit/s into the guest", "held", "pool refused",
            "budget failures", "native failures", "TAP drops", "drops", "backlog full", "pool MiB");
    // the rate counts as back from the first row at this share of the median after the change
    static final double BACK_SHARE = 0.9;
    private static final Pattern TIME = Pattern.compile("^\\{\"time\":\"([^\"]+)\"");

    /** One stats line: when, and its counters summed over the pairs. */
    record Line(double epochSeconds, Counters counters) {
        long value(String key) {
            return counters.get(key).orElse(0);
        }
    }

    /** A row: the rate into the guest over it, each {@link #COUNTED} counter's growth, the pool's memory at its end. */
    public record Row(double fromChange, double megabitsPerSecond, List<Long> growth, double poolMebibytes) {
        List<String> cells() {
            List<String> cells = new ArrayList<>();
            cells.add(String.format(Locale.ROOT, "%+.1f", fromChange));
            cells.add(String.format(Locale.ROOT, "%.0f", megabitsPerSecond));
            growth.forEach(g -> cells.add(Long.toString(g)));
            cells.add(String.format(Locale.ROOT, "%.1f", poolMebibytes));
            return cells;
        }
    }

    private final List<Line> lines;

    private BackendSeries(List<Line> lines) {
        this.lines = lines;
    }

    /** The JSON lines of a back-end's standard output (its other lines left out). */
    public static BackendSeries parse(String output) {
        List<Line> lines = new ArrayList<>();
        for (String line : output.lines().toList()) {
            Matcher time = TIME.matcher(line);
            if (line.contains("\"pairs\":") && time.find()) {
                Instant at = Instant.parse(time.group(1));
                lines.add(new Line(at.getEpochSecond() + at.getNano() / 1e9, Counters.ofBackendStats(line)));
            }
        }
        return new BackendSeries(List.copyOf(lines));
    }

    /**
     * The rows from {@code before} seconds before the change at {@code change} (epoch seconds) to
     * {@code after} seconds after it, each from the line that ended the previous row to the first
     * line at least {@code step} seconds later (step 0: every line; 1: about a second).
     */
    public List<Row> rows(double change, double before, double after, double step) {
        List<Row> rows = new ArrayList<>();
        Line previous = null;
        for (Line line : lines) {
            if (previous != null && line.epochSeconds() - previous.epochSeconds() < step - 0.01) {
                continue;
            }
            double fromChange = line.epochSeconds() - change;
            if (previous != null && fromChange >= -before && fromChange <= after) {
                double seconds = line.epochSeconds() - previous.epochSeconds();
                List<Long> growth = new ArrayList<>();
                for (String key : COUNTED) {
                    growth.add(line.value(key) - previous.value(key));
                }
                rows.add(new Row(fromChange, (line.value("rx_bytes") - previous.value("rx_bytes")) * 8 / seconds / 1e6, growth,
                        line.value("pool_allocated_bytes") / 1048576.0));
            }
            previous = line;
        }
        return rows;
    }

    /** The rows as a table, header first. */
    public static List<List<String>> table(List<Row> rows) {
        List<List<String>> table = new ArrayList<>();
        table.add(HEADER);
        rows.forEach(row -> table.add(row.cells()));
        return table;
    }

    /**
     * "median before the raise A Mbit/s, after B; at 90% of the later median from C s after the
     * raise" (never when no row after it is).
     */
    public static String recovery(List<Row> rows) {
        double before = median(rows.stream().filter(r -> r.fromChange() <= 0).toList());
        double after = median(rows.stream().filter(r -> r.fromChange() > 0).toList());
        String back = rows.stream().filter(r -> r.fromChange() > 0 && r.megabitsPerSecond() >= BACK_SHARE * after).findFirst()
                .map(r -> String.format(Locale.ROOT, "%.1f s", r.fromChange())).orElse("never");
        return String.format(Locale.ROOT, "median before the raise %.0f Mbit/s, after %.0f; at 90%% of the later median from %s"
                + " after the raise", before, after, back);
    }

    private static double median(List<Row> rows) {
        Spread spread = Spread.of(rows.stream().map(Row::megabitsPerSecond).toList());
        return spread.empty() ? 0 : spread.median();
    }
}
