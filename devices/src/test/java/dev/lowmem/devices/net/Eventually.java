package dev.lowmem.devices.net;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Waiting, in a test, for what the back-end's own threads change (its workers, its control-plane
 * loop): up to 5 s, looking every 2 ms, then failing with what was seen.
 */
final class Eventually {
    private static final long TIMEOUT_NANOS = 5_000_000_000L;
    private static final long PAUSE_MILLIS = 2;

    /** A value the back-end changes; may throw (an eventfd read, say). */
    @FunctionalInterface
    interface Probe {
        long value() throws Exception;
    }

    /** A condition on what the back-end changes. */
    @FunctionalInterface
    interface Condition {
        boolean holds() throws Exception;
    }

    private Eventually() {
    }

    /** Waits until {@code actual} reads {@code expected}. */
    static void equals(long expected, Probe actual) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        long value;
        while ((value = actual.value()) != expected) {
            assertTrue(System.nanoTime() < deadline, "still " + value + ", not " + expected + ", after 5 s");
            Thread.sleep(PAUSE_MILLIS);
        }
    }

    /** Something the back-end produces; null until it has. */
    @FunctionalInterface
    interface Source<T> {
        T next() throws Exception;
    }

    /** Waits until {@code source} gives something, and returns it. */
    static <T> T nonNull(Source<T> source) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        T value;
        while ((value = source.next()) == null) {
            assertTrue(System.nanoTime() < deadline, "nothing came within 5 s");
            Thread.sleep(PAUSE_MILLIS);
        }
        return value;
    }

    /** Waits until {@code condition} holds; {@code what} names it in the failure. */
    static void holds(Condition condition, String what) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (!condition.holds()) {
            assertTrue(System.nanoTime() < deadline, "within 5 s: " + what);
            Thread.sleep(PAUSE_MILLIS);
        }
    }
}
