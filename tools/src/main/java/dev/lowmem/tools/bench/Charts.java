package dev.lowmem.tools.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The bench's charts as SVG: bars of ratios (ours over each other contender, a panel per part and
 * pinning) and lines of throughput series (the stress scripts' seconds).
 */
public final class Charts {
    static final String[] COLOURS = {"#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f"};
    static final String[] DASHES = {"", "6 3", "2 2"};
    static final double WIDTH = 760;
    static final double LEFT = 60;
    static final double RIGHT = 20;
    static final double PLOT_HEIGHT = 170;
    private static final double PANEL_HEIGHT = 290;

    /** One panel of bars: a group per case, a bar per ratio label. */
    public record RatioPanel(String title, List<String> cases, List<String> labels, List<BenchTable.RatioBar> bars) {
    }

    /**
     * One line: points {x, y}; its colour and dash pattern by number, so that lines that share a
     * back-end share a colour and lines that share a phase share a pattern.
     */
    public record Series(String name, List<double[]> points, int colour, int dash) {
    }

    private Charts() {
    }

    /**
     * A panel per element of {@code panels}: each bar grows from a dashed line at 1 (level) to the
     * ratio of medians, up for a ratio above 1 and down for one below, its whisker from the lowest
     * to the highest round's ratio. The scale is logarithmic, ticks at powers of 2, so that 2 and
     * 1/2 stand as far from level and a ratio of 50 (a peer that nearly stopped) does not flatten
     * the others. A ratio without a figure (a contender failed, or did not run) has no bar.
     */
    public static String ratios(List<RatioPanel> panels) {
        Svg svg = new Svg(WIDTH, Math.max(1, panels.size()) * PANEL_HEIGHT);
        double top = 0;
        for (RatioPanel panel : panels) {
            ratioPanel(svg, panel, top);
            top += PANEL_HEIGHT;
        }
        return svg.toString();
    }

    private static void ratioPanel(Svg svg, RatioPanel panel, double top) {
        double plotTop = top + 40;
        double plotBottom = plotTop + PLOT_HEIGHT;
        double plotWidth = WIDTH - LEFT - RIGHT;
        svg.text(WIDTH / 2, top + 20, "middle", panel.title());
        // the powers of 2 the panel spans, at least 1/2 to 2
        int lowest = -1;
        int highest = 1;
        for (BenchTable.RatioBar bar : panel.bars()) {
            for (double ratio : new double[] {bar.median(), bar.min(), bar.max()}) {
                if (ratio > 0 && Double.isFinite(ratio)) {
                    lowest = Math.min(lowest, (int) Math.floor(log2(ratio)));
                    highest = Math.max(highest, (int) Math.ceil(log2(ratio)));
                }
            }
        }
        Axis axis = new Axis(lowest, highest, 1);
        svg.line("axis", LEFT, plotTop, LEFT, plotBottom, "#333333", "");
        for (int power = lowest; power <= highest; power++) {
            double y = axis.scale(power, plotBottom, plotTop);
            svg.line("grid", LEFT, y, WIDTH - RIGHT, y, "#dddddd", "");
            svg.text(LEFT - 6, y + 4, "end", power < 0 ? "1/" + (1L << -power) : String.valueOf(1L << power));
        }
        svg.verticalText(16, (plotTop + plotBottom) / 2, "ratio (log scale)");
        double level = axis.scale(0, plotBottom, plotTop);
        svg.line("level", LEFT, level, WIDTH - RIGHT, level, "#333333", "4 3");
        int cases = Math.max(1, panel.cases().size());
        int labels = Math.max(1, panel.labels().size());
        double group = plotWidth / cases;
        double barWidth = group * 0.8 / labels;
        for (int c = 0; c < panel.cases().size(); c++) {
            String caseName = panel.cases().get(c);
            double groupLeft = LEFT + c * group + group * 0.1;
            svg.text(LEFT + (c + 0.5) * group, plotBottom + 16, "middle", caseName);
            for (int l = 0; l < panel.labels().size(); l++) {
                String label = panel.labels().get(l);
                BenchTable.RatioBar bar = find(panel.bars(), caseName, label);
                if (bar == null || !(bar.median() > 0) || Double.isInfinite(bar.median())) {
                    continue;
                }
                double x = groupLeft + l * barWidth;
                double y = axis.scale(log2(bar.median()), plotBottom, plotTop);
                svg.rect("bar", x + 1, Math.min(y, level), barWidth - 2, Math.abs(level - y), COLOURS[l % COLOURS.length],
                        String.format(Locale.ROOT, "%s %s: %.2f (rounds %.2f-%.2f)", caseName, label, bar.median(), bar.min(), bar.max()));
                if (bar.min() > 0) {
                    double middle = x + barWidth / 2;
                    double low = axis.scale(log2(bar.min()), plotBottom, plotTop);
                    double high = axis.scale(log2(bar.max()), plotBottom, plotTop);
                    svg.line("whisker", middle, low, middle, high, "#000000", "");
                    svg.line("whisker-cap", middle - 4, low, middle + 4, low, "#000000", "");
                    svg.line("whisker-cap", middle - 4, high, middle + 4, high, "#000000", "");
                }
            }
        }
        legend(svg, panel.labels(), plotBottom + 40);
    }

    private static double log2(double value) {
        return Math.log(value) / Math.log(2);
    }

    /** A panel of lines: {@code title} above, the series' names in a legend below. */
    public record SeriesPanel(String title, String xLabel, String yLabel, List<Series> series) {
    }

    /** The panels one above the other, each with axes of its own. */
    public static String series(List<SeriesPanel> panels) {
        double total = 0;
        for (SeriesPanel panel : panels) {
            total += seriesHeight(panel);
        }
        Svg svg = new Svg(WIDTH, Math.max(total, 1));
        double top = 0;
        for (SeriesPanel panel : panels) {
            seriesPanel(svg, panel, top);
            top += seriesHeight(panel);
        }
        return svg.toString();
    }

    private static double seriesHeight(SeriesPanel panel) {
        int columns = legendColumns(panel.series().stream().map(Series::name).toList());
        return 40 + PLOT_HEIGHT + 60 + 30 + 18 * ((panel.series().size() + columns - 1) / columns);
    }

    // as many columns as the longest name leaves room for, at most four (about 7 units a character)
    private static int legendColumns(List<String> names) {
        int longest = names.stream().mapToInt(String::length).max().orElse(0);
        return (int) Math.max(1, Math.min(4, (WIDTH - LEFT - RIGHT) / (longest * 7.0 + 34)));
    }

    /** A key a line: its colour and dash pattern, then its name. */
    private static void lineLegend(Svg svg, List<Series> series, double y) {
        int columns = legendColumns(series.stream().map(Series::name).toList());
        double column = (WIDTH - LEFT - RIGHT) / columns;
        for (int i = 0; i < series.size(); i++) {
            double x = LEFT + (i % columns) * column;
            double row = y + (i / columns) * 18;
            svg.line("key", x, row - 4, x + 24, row - 4, colour(series.get(i).colour()), dash(series.get(i).dash()), 2);
            svg.text(x + 30, row, "start", series.get(i).name());
        }
    }

    private static String colour(int index) {
        return COLOURS[Math.floorMod(index, COLOURS.length)];
    }

    private static String dash(int index) {
        return DASHES[Math.floorMod(index, DASHES.length)];
    }

    private static void seriesPanel(Svg svg, SeriesPanel panel, double top) {
        double plotTop = top + 40;
        double plotBottom = plotTop + PLOT_HEIGHT;
        svg.text(WIDTH / 2, top + 20, "middle", panel.title());
        double lowX = Double.POSITIVE_INFINITY;
        double highX = Double.NEGATIVE_INFINITY;
        double highY = 0;
        for (Series s : panel.series()) {
            for (double[] point : s.points()) {
                lowX = Math.min(lowX, point[0]);
                highX = Math.max(highX, point[0]);
                highY = Math.max(highY, point[1]);
            }
        }
        if (lowX > highX) {
            lowX = 0;
            highX = 1;
        }
        Axis xAxis = Axis.of(Math.floor(lowX), highX);
        Axis yAxis = Axis.of(0, Math.max(highY, 1));
        yAxis(svg, yAxis, plotTop, plotBottom, panel.yLabel());
        for (int t = 0; t <= xAxis.ticks(); t++) {
            double value = xAxis.low() + t * xAxis.step();
            double x = xAxis.scale(value, LEFT, WIDTH - RIGHT);
            svg.line("tick", x, plotBottom, x, plotBottom + 4, "#333333", "");
            svg.text(x, plotBottom + 16, "middle", number(value));
        }
        svg.text(LEFT + (WIDTH - LEFT - RIGHT) / 2, plotBottom + 34, "middle", panel.xLabel());
        for (int i = 0; i < panel.series().size(); i++) {
            List<double[]> points = new ArrayList<>();
            for (double[] point : panel.series().get(i).points()) {
                points.add(new double[] {xAxis.scale(point[0], LEFT, WIDTH - RIGHT), yAxis.scale(point[1], plotBottom, plotTop)});
            }
            Series series = panel.series().get(i);
            svg.polyline("series", points, colour(series.colour()), dash(series.dash()), series.name());
        }
        lineLegend(svg, panel.series(), plotBottom + 56);
    }

    private static void yAxis(Svg svg, Axis axis, double plotTop, double plotBottom, String label) {
        svg.line("axis", LEFT, plotTop, LEFT, plotBottom, "#333333", "");
        svg.line("axis", LEFT, plotBottom, WIDTH - RIGHT, plotBottom, "#333333", "");
        for (int t = 0; t <= axis.ticks(); t++) {
            double value = axis.low() + t * axis.step();
            double y = axis.scale(value, plotBottom, plotTop);
            svg.line("grid", LEFT, y, WIDTH - RIGHT, y, "#dddddd", "");
            svg.text(LEFT - 6, y + 4, "end", number(value));
        }
        svg.verticalText(16, (plotTop + plotBottom) / 2, label);
    }

    private static void legend(Svg svg, List<String> names, double y) {
        double column = (WIDTH - LEFT - RIGHT) / 4;
        for (int i = 0; i < names.size(); i++) {
            double x = LEFT + (i % 4) * column;
            double row = y + (i / 4) * 18;
            svg.rect("key", x, row - 10, 12, 12, COLOURS[i % COLOURS.length], "");
            svg.text(x + 18, row, "start", names.get(i));
        }
    }

    private static BenchTable.RatioBar find(List<BenchTable.RatioBar> bars, String caseName, String label) {
        return bars.stream().filter(b -> b.caseName().equals(caseName) && b.label().equals(label)).findFirst().orElse(null);
    }

    private static String number(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e9 ? String.valueOf((long) value)
                : String.format(Locale.ROOT, "%.2f", value).replaceAll("0+$", "");
    }
}
