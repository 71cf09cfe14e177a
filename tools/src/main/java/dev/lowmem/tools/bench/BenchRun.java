package dev.lowmem.tools.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One run of the bench, a line of its results.tsv as bench_record (tools/scripts/lib/bench.sh)
 * writes it, tab-separated: part, case, contender, round, value, second value, the directory of
 * the run's raw output, and the pinning it ran with. A failed run has "-" for its value
 * ({@code value} NaN here); the second value may be "-" or "?" (not reported). A file written
 * before the bench had --pinning has no eighth field: those runs were all pinned split.
 */
public record BenchRun(String part, String caseName, String contender, int round, double value, String second,
        String directory, String pinning) {
    /** The pinning of a results file from before --pinning: every process pinned to its CPU. */
    public static final String LEGACY_PINNING = "split";

    public boolean failed() {
        return Double.isNaN(value);
    }

    /** The second value as a number, NaN when it is not one. */
    public double secondValue() {
        return second.matches("[0-9.]+") ? Double.parseDouble(second) : Double.NaN;
    }

    public static List<BenchRun> read(Path results) throws IOException {
        List<BenchRun> runs = new ArrayList<>();
        int number = 0;
        for (String line : Files.readAllLines(results)) {
            number++;
            if (line.isBlank()) {
                continue;
            }
            runs.add(parse(line, results + ":" + number));
        }
        return List.copyOf(runs);
    }

    static BenchRun parse(String line, String where) {
        String[] fields = line.split("\t", -1);
        if (fields.length < 7) {
            throw new IllegalArgumentException(where + ": " + fields.length + " fields, a run has at least 7: " + line);
        }
        try {
            double value = fields[4].equals("-") ? Double.NaN : Double.parseDouble(fields[4]);
            return new BenchRun(fields[0], fields[1], fields[2], Integer.parseInt(fields[3]), value, fields[5], fields[6],
                    fields.length > 7 && !fields[7].isEmpty() ? fields[7] : LEGACY_PINNING);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage() + ": " + line, e);
        }
    }
}
