package dev.lowmem.tools.bench;

import java.util.Arrays;
import java.util.Collection;

/** The lowest, the median and the highest of some figures (the rounds of one cell); NaN for none. */
public record Spread(double min, double median, double max, int count) {
    public static Spread of(Collection<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).filter(v -> !Double.isNaN(v)).sorted().toArray();
        int n = sorted.length;
        if (n == 0) {
            return new Spread(Double.NaN, Double.NaN, Double.NaN, 0);
        }
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return new Spread(sorted[0], median, sorted[n - 1], n);
    }

    public static Spread of(double... values) {
        return of(Arrays.stream(values).boxed().toList());
    }

    public boolean empty() {
        return count == 0;
    }
}
