package dev.lowmem.tools.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * A guest's console log holds what a scenario of run-guest printed between
 * {@code === NAME begin ===} and {@code === NAME end ===} (guest-tests/guest/guest-stress), among
 * the kernel's and other programs' lines; the console's carriage returns are dropped.
 */
public final class ConsoleSection {
    private ConsoleSection() {
    }

    /** The lines of the first section named {@code name}, its two marker lines included; empty without one. */
    public static String of(String console, String name) {
        String begin = "=== " + name + " begin ===";
        String end = "=== " + name + " end ===";
        List<String> lines = new ArrayList<>();
        boolean inside = false;
        for (String line : console.replace("\r", "").split("\n", -1)) {
            if (!inside && line.equals(begin)) {
                inside = true;
            }
            if (inside) {
                lines.add(line);
                if (line.equals(end)) {
                    break;
                }
            }
        }
        return lines.isEmpty() ? "" : String.join("\n", lines) + "\n";
    }
}
