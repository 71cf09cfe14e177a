package dev.lowmem.tools.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One part's runs with one pinning as tables: a row per case, a column per contender holding the
 * median over the rounds of the value and of the second value ("FORMAT (FORMAT2)"), then a column
 * per ratio of medians; the same rounds' lowest and highest value beside it; and each ratio's
 * bar for the chart. A cell marked "*" lost some runs (failed); "failed" lost them all; "-" had
 * none.
 */
public final class BenchTable {
    /**
     * A ratio for one case: of the two contenders' medians, and the lowest and highest of the
     * rounds' own ratios (each round's numerator over the same round's denominator; rounds where
     * either failed left out).
     */
    public record RatioBar(String caseName, String label, double median, double min, double max) {
    }

    private record Key(String caseName, String contender) {
    }

    private final ReportSpec.Table spec;
    private final Map<Key, List<BenchRun>> cells = new HashMap<>();

    public BenchTable(ReportSpec.Table spec, List<BenchRun> runs) {
        this.spec = spec;
        for (BenchRun run : runs) {
            cells.computeIfAbsent(new Key(run.caseName(), run.contender()), k -> new ArrayList<>()).add(run);
        }
    }

    /** The runs of one cell's value: min, median, max of those that did not fail. */
    public Spread spread(String caseName, String contender) {
        return Spread.of(runs(caseName, contender).stream().map(BenchRun::value).toList());
    }

    /** The table of medians and ratios, header first. */
    public TextTable medians() {
        List<List<String>> rows = new ArrayList<>();
        List<String> head = new ArrayList<>(List.of(spec.caseHeader()));
        spec.contenders().forEach(c -> head.add(c + " " + spec.unit()));
        spec.ratios().forEach(r -> head.add(r.label()));
        rows.add(head);
        for (String caseName : spec.cases()) {
            List<String> row = new ArrayList<>(List.of(caseName));
            for (String contender : spec.contenders()) {
                row.add(cell(caseName, contender));
            }
            for (ReportSpec.Ratio ratio : spec.ratios()) {
                row.add(format("%.2f", ratio(caseName, ratio).median()));
            }
            rows.add(row);
        }
        return new TextTable(rows);
    }

    /** The rounds' lowest and highest value in each cell ("min-max", one figure for one run), and of each ratio. */
    public TextTable ranges() {
        List<List<String>> rows = new ArrayList<>();
        List<String> head = new ArrayList<>(List.of(spec.caseHeader()));
        head.addAll(spec.contenders());
        spec.ratios().forEach(r -> head.add(r.label()));
        rows.add(head);
        for (String caseName : spec.cases()) {
            List<String> row = new ArrayList<>(List.of(caseName));
            for (String contender : spec.contenders()) {
                Spread spread = spread(caseName, contender);
                row.add(range(spec.format(), spread.min(), spread.max()));
            }
            for (ReportSpec.Ratio ratio : spec.ratios()) {
                RatioBar bar = ratio(caseName, ratio);
                row.add(range("%.2f", bar.min(), bar.max()));
            }
            rows.add(row);
        }
        return new TextTable(rows);
    }

    /** Whether some cell has more than one run: without, the ranges say nothing the medians do not. */
    public boolean hasRounds() {
        return cells.values().stream().anyMatch(runs -> runs.stream().filter(r -> !r.failed()).count() > 1);
    }

    /** Whether any run of the table's cases and contenders was recorded. */
    public boolean hasRuns() {
        return spec.cases().stream().anyMatch(c -> spec.contenders().stream().anyMatch(t -> !runs(c, t).isEmpty()));
    }

    /** A bar per case and ratio, in the table's order. */
    public List<RatioBar> ratioBars() {
        List<RatioBar> bars = new ArrayList<>();
        for (String caseName : spec.cases()) {
            for (ReportSpec.Ratio ratio : spec.ratios()) {
                bars.add(ratio(caseName, ratio));
            }
        }
        return bars;
    }

    private RatioBar ratio(String caseName, ReportSpec.Ratio ratio) {
        double median = spread(caseName, ratio.numerator()).median() / spread(caseName, ratio.denominator()).median();
        Map<Integer, Double> numerators = byRound(caseName, ratio.numerator());
        Map<Integer, Double> denominators = byRound(caseName, ratio.denominator());
        List<Double> rounds = new ArrayList<>();
        numerators.forEach((round, value) -> {
            Double denominator = denominators.get(round);
            if (denominator != null && denominator > 0) {
                rounds.add(value / denominator);
            }
        });
        Spread spread = Spread.of(rounds);
        return new RatioBar(caseName, ratio.label(), Double.isInfinite(median) ? Double.NaN : median, spread.min(), spread.max());
    }

    private Map<Integer, Double> byRound(String caseName, String contender) {
        Map<Integer, Double> values = new TreeMap<>();
        runs(caseName, contender).stream().filter(r -> !r.failed()).forEach(r -> values.put(r.round(), r.value()));
        return values;
    }

    private String cell(String caseName, String contender) {
        List<BenchRun> runs = runs(caseName, contender);
        if (runs.isEmpty()) {
            return "-";
        }
        Spread spread = spread(caseName, contender);
        if (spread.empty()) {
            return "failed";
        }
        String cell = format(spec.format(), spread.median());
        if (!spec.format2().isEmpty()) {
            Spread second = Spread.of(runs.stream().filter(r -> !r.failed()).map(BenchRun::secondValue).toList());
            cell += " (" + (second.empty() ? "?" : format(spec.format2(), second.median())) + ")";
        }
        return spread.count() < runs.size() ? cell + "*" : cell;
    }

    private List<BenchRun> runs(String caseName, String contender) {
        return cells.getOrDefault(new Key(caseName, contender), List.of());
    }

    private static String range(String format, double min, double max) {
        if (Double.isNaN(min)) {
            return "-";
        }
        String low = format(format, min);
        String high = format(format, max);
        return low.equals(high) ? low : low + "-" + high;
    }

    static String format(String format, double value) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, format, value);
    }
}
