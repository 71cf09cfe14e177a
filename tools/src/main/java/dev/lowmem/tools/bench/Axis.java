package dev.lowmem.tools.bench;

/** A linear axis from 0 (or {@code low}) to a round top, with ticks at round steps. */
record Axis(double low, double high, double step) {
    /** From {@code low} to at least {@code highest}, four to seven ticks of 1, 2 or 5 times a power of ten. */
    static Axis of(double low, double highest) {
        double span = Math.max(highest - low, 1e-9);
        double magnitude = Math.pow(10, Math.floor(Math.log10(span / 5)));
        double step = magnitude;
        for (double factor : new double[] {1, 2, 5, 10}) {
            step = factor * magnitude;
            if (span / step <= 7) {
                break;
            }
        }
        return new Axis(low, low + Math.ceil(span / step - 1e-9) * step, step);
    }

    /** Where {@code value} falls between {@code from} (at low) and {@code to} (at high). */
    double scale(double value, double from, double to) {
        return from + (value - low) / (high - low) * (to - from);
    }

    int ticks() {
        return (int) Math.round((high - low) / step);
    }
}
