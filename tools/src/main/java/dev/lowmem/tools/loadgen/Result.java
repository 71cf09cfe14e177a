package dev.lowmem.tools.loadgen;

import java.util.List;

/**
 * What a run measured.
 *
 * @param window the counts of the measured interval, all pairs together
 * @param pairWindows the same for each pair
 * @param nanos the measured interval's length
 * @param totals the counts since the rings started, taken after the backend stopped them: what
 *               the backend's own counters should say
 * @param problem what went wrong after measuring (the rings could not be stopped), or null
 */
record Result(LoadSettings settings, Plan plan, Counts window, List<Counts> pairWindows, long nanos, Counts totals,
        String problem) {

    double seconds() {
        return nanos / 1e9;
    }
}
