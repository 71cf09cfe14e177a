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
 * chart: a panel per value of one column, a series per value of some columns (its colour from the
 * first of them, its dash pattern from the second), a point per line from two numeric columns.
 * Columns count from 1; a line whose x or y is not a number is left out.
 */
public record SeriesTable(int panelColumn, List<Integer> seriesColumns, int xColumn, int yColumn) {
    public Map<String, List<Charts.Series>> panels(List<String> lines, String seriesName) {
        // a line's naming columns, and its points
        record Line(List<String> names, List<double[]> points) {
        }
        Map<String, Map<String, Line>> panels = new LinkedHashMap<>();
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
            panels.computeIfAbsent(panel, p -> new LinkedHashMap<>()).computeIfAbsent(name, n -> new Line(names, new ArrayList<>()))
                    .points().add(new double[] {x, y});
        }
        // a colour per value of the first naming column, a dash pattern per value of the second,
        // the same in every panel
        List<String> colours = new ArrayList<>();
        List<String> dashes = new ArrayList<>();
        Map<String, List<Charts.Series>> result = new LinkedHashMap<>();
        panels.forEach((panel, series) -> result.put(panel, series.entrySet().stream().map(e -> {
            List<String> names = e.getValue().names();
            return new Charts.Series(e.getKey(), List.copyOf(e.getValue().points()), names.isEmpty() ? 0 : indexOf(colours, names.get(0)),
                    names.size() < 2 ? 0 : indexOf(dashes, names.get(1)));
        }).toList()));
        return result;
    }

    public Map<String, List<Charts.Series>> panels(Path file, String seriesName) throws IOException {
        return panels(Files.readAllLines(file), seriesName);
    }

    // the position of value in values, added at the end when new
    private static int indexOf(List<String> values, String value) {
        if (!values.contains(value)) {
            values.add(value);
        }
        return values.indexOf(value);
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
