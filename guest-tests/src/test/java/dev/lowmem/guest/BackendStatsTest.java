package dev.lowmem.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BackendStatsTest {
    // The command's --stats-format json line, two pairs, counters cut short.
    private static final String LINE = "{\"time\":\"2026-11-23T11:35:46.946Z\",\"negotiated\":\"NET_CSUM | VERSION_1\","
            + "\"gc_collections\":2,\"gc_ms\":9,\"pairs\":[{\"pair\":0,\"tx_frames\":19,\"rx_frames\":20,"
            + "\"rx_drop_no_room\":1,\"drops\":1,\"backlog\":0,\"worker_alloc_bytes\":1000},"
            + "{\"pair\":1,\"tx_frames\":5,\"rx_frames\":0,\"rx_drop_no_room\":2,\"drops\":2,\"backlog\":3,"
            + "\"worker_alloc_bytes\":24}]}";

    @Test
    void sumsEachCounterOverThePairs() {
        BackendStats stats = BackendStats.parse(LINE);

        assertEquals("NET_CSUM | VERSION_1", stats.negotiated());
        assertEquals(24, stats.get("tx_frames"));
        assertEquals(20, stats.get("rx_frames"));
        assertEquals(3, stats.drops());
        assertEquals(3, stats.get("backlog"));
        assertEquals(1024, stats.get("worker_alloc_bytes"));
        assertEquals(2, stats.get("gc_collections"), "the JVM's, once");
        assertEquals(0, stats.get("no_such_counter"));
    }

    @Test
    void keepsEachPairsOwnCounters() {
        BackendStats stats = BackendStats.parse(LINE);

        assertEquals(2, stats.pairs().size());
        assertEquals(19, stats.pair(0, "tx_frames"));
        assertEquals(5, stats.pair(1, "tx_frames"));
        assertEquals(3, stats.pair(1, "backlog"));
        assertEquals(0, stats.pair(1, "gc_collections"), "the JVM's are no pair's");
    }

    @Test
    void sinceGivesWhatGrew() {
        BackendStats before = BackendStats.parse(LINE);
        BackendStats after = BackendStats.parse(LINE.replace("\"tx_frames\":19", "\"tx_frames\":119"));

        assertEquals(100, after.since(before).get("tx_frames"));
        assertEquals(100, after.since(before).pair(0, "tx_frames"));
        assertEquals(0, after.since(before).pair(1, "tx_frames"));
        assertEquals(0, after.since(before).drops());
    }

    @Test
    void listsTheCountersAskedFor() {
        assertEquals("rx_drop_no_room=3", BackendStats.parse(LINE).counters(key -> key.contains("_drop_")));
        assertEquals("", BackendStats.parse(LINE).counters(key -> key.startsWith("pool_")));
    }

    @Test
    void tellsStatsLinesFromLogLines() {
        assertTrue(BackendStats.isStatsLine(LINE));
        assertFalse(BackendStats.isStatsLine("2026-11-23 11:38:24.036 INFO negotiated: NET_CSUM"));
    }
}
