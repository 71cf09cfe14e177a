package dev.lowmem.tools.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * stress-guest-memory's two tables, a column per run (its name: BACKEND or BACKEND+squeeze): the
 * figures of every run (figures.tsv: RUN RANK SECTION ROW VALUE a line) and the stressed series a
 * second (series.tsv: RUN PHASE DIRECTION END_S MBIT_S STALL a line). Header row first.
 */
public final class StressTables {
    private StressTables() {
    }

    /**
     * The rows in rank order, then in the order first seen; a section's name on its first row only;
     * "-" where a run has no such row.
     */
    public static List<List<String>> figures(List<String> runs, List<String> figureLines) {
        record Key(int rank, String section, String label) {
        }
        Map<Key, Map<String, String>> cells = new LinkedHashMap<>();
        for (String line : figureLines) {
            String[] f = line.split("\t", -1);
            if (f.length < 5) {
                continue;
            }
            cells.computeIfAbsent(new Key(Integer.parseInt(f[1]), f[2], f[3]), k -> new HashMap<>()).put(f[0], f[4]);
        }
        List<Key> keys = new ArrayList<>(cells.keySet());
        keys.sort(Comparator.comparingInt(Key::rank));
        List<List<String>> table = new ArrayList<>();
        List<String> header = new ArrayList<>(List.of("", ""));
        header.addAll(runs);
        table.add(header);
        String lastSection = null;
        for (Key key : keys) {
            List<String> row = new ArrayList<>();
            row.add(key.section().equals(lastSection) ? "" : key.section());
            row.add(key.label());
            lastSection = key.section();
            runs.forEach(run -> row.add(cells.get(key).getOrDefault(run, "-")));
            table.add(row);
        }
        return table;
    }

    /**
     * The stressed part a second at a time, a row a second, a column per run and direction: the
     * mean of the second's intervals (of equal length: iperf3's rate over it), "!" when one of
     * them stalled.
     */
    public static List<List<String>> stressedSeconds(List<String> runs, List<String> seriesLines) {
        record Cell(double sum, int count, boolean stalled) {
            Cell plus(Cell other) {
                return new Cell(sum + other.sum, count + other.count, stalled || other.stalled);
            }
        }
        Map<String, Map<Integer, Cell>> columns = new HashMap<>();
        Map<String, Double> lastEnds = new HashMap<>();
        int lastSecond = 0;
        for (String line : seriesLines) {
            String[] f = line.split("\t", -1);
            if (f.length < 6 || !f[1].equals("stressed")) {
                continue;
            }
            String column = f[0] + "\t" + f[2];
            double end = Double.parseDouble(f[3]);
            // an interval starts where the one before it ended; its middle says its second, as
            // iperf3's ends drift (3.00-3.12, 3.90-4.01)
            double middle = (lastEnds.getOrDefault(column, 0.0) + end) / 2;
            lastEnds.put(column, end);
            int second = (int) Math.floor(middle) + 1;
            lastSecond = Math.max(lastSecond, second);
            columns.computeIfAbsent(column, c -> new HashMap<>())
                    .merge(second, new Cell(Double.parseDouble(f[4]), 1, f[5].equals("1")), Cell::plus);
        }
        List<List<String>> table = new ArrayList<>();
        List<String> header = new ArrayList<>(List.of("second"));
        for (String run : runs) {
            header.add(run + " g->h");
            header.add(run + " h->g");
        }
        table.add(header);
        for (int second = 1; second <= lastSecond; second++) {
            List<String> row = new ArrayList<>(List.of(Integer.toString(second)));
            for (String run : runs) {
                for (String direction : StressRun.DIRECTIONS) {
                    Cell cell = columns.getOrDefault(run + "\t" + direction, Map.of()).get(second);
                    row.add(cell == null ? "-"
                            : String.format(Locale.ROOT, "%.0f%s", cell.sum() / cell.count(), cell.stalled() ? "!" : ""));
                }
            }
            table.add(row);
        }
        return table;
    }
}
