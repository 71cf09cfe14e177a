package dev.lowmem.tools.loadgen;

import java.util.Locale;

/** Which of a queue pair's directions the generator drives. */
enum Mode {
    /** Frames on the device's TX queue for the backend to consume (against a sink). */
    TX,
    /** Buffers on the device's RX queue for the backend to fill (against a source). */
    RX,
    /** Both at once (against a loopback, or a forwarding backend). */
    BOTH;

    boolean transmits() {
        return this != RX;
    }

    boolean receives() {
        return this != TX;
    }

    /** "tx", "rx", "both", in any case. */
    static Mode parse(String text) {
        for (Mode mode : values()) {
            if (mode.label().equalsIgnoreCase(text)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a mode; give tx, rx or both");
    }

    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** As the command line spells it, for --help's defaults. */
    @Override
    public String toString() {
        return label();
    }
}
