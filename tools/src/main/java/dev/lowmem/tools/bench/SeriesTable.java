package dev.lowmem.tools.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lines of figures (tab-separated, or separated by spaces when a line has no tab) as series for a
 * chart: a panel per value of one column, a series per value of some columns, a point per line
 * from two numeric columns. Columns count from 1; a line whose x or y is not a number is left out.
 */
public record SeriesTable(int panelColumn, List<Integer> seriesColumns, int xColumn, int yColumn) {
    public Map<String, List<Charts.Series>> panels(List<String> lines, String seriesName) {
        Map<String, Map<String, List<double[]>>> panels = new LinkedHashMap<>();
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.contains("\t") ? line.split("\t", -1) : line.strip().split(" +");
            double x = number(f, xColumn);
            double y = number(f, yColumn);
            if (Double.isNaN(x) || Double.isNaN(y)) {
                continue;
            }
            String panel = panelColumn > 0 && panelColumn <= f.length ? f[panelColumn - 1] : "";
            List<String> names = new ArrayList<>();
            for (int column : seriesColumns) {
                if (column <= f.length) {
                    names.add(f[column - 1]);
                }
            }
            String name = names.isEmpty() ? seriesName : String.join(" ", names);
            panels.computeIfAbsent(panel, p -> new LinkedHashMap<>()).computeIfAbsent(name, n -> new ArrayList<>())
                    .add(new double[] {x, y});
        }
        Map<String, List<Charts.Series>> result = new LinkedHashMap<>();
        panels.forEach((panel, series) -> result.put(panel,
                series.entrySet().stream().map(e -> new Charts.Series(e.getKey(), List.copyOf(e.getValue()))).toList()));
        return result;
    }

    public Map<String, List<Charts.Series>> panels(Path file, String seriesName) throws IOException {
        return panels(Files.readAllLines(file), seriesName);
    }

    private static double number(String[] fields, int column) {
        if (column < 1 || column > fields.length) {
            return Double.NaN;
        }
        try {
            return Double.parseDouble(fields[column - 1]);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
