package dev.lowmem.tools.vhostusernet;

/**
 * One line per log record on standard error, "2026-11-23 10:41:20.123 INFO message", for the
 * System.Logger lines of the backend, the device and the command alike (they go to
 * java.util.logging). An exception's stack trace follows its line: those are the failures
 * nobody expected.
 */
final class LogFormat {
    static final String PROPERTY = "java.util.logging.SimpleFormatter.format";
    static final String FORMAT = "%1$tF %1$tT.%1$tL %4$s %5$s%6$s%n";

    private LogFormat() {
    }

    /**
     * Before the first record is logged, since SimpleFormatter reads the format once; a format
     * given with {@code -D} wins.
     */
    static void install() {
        if (System.getProperty(PROPERTY) == null) {
            System.setProperty(PROPERTY, FORMAT);
        }
    }
}
