package dev.lowmem.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class GuestCountersTest {
    private static final String BEFORE = "MEMHOG t=3 held_mb=33.0\n"
            + "GUEST-COUNTERS now pgscan_kswapd=0 pageoutrun=2 oom_kill=0 allocstall=0 tcp_retrans_segs=1 eth0_rx_dropped=0\n";
    private static final String AFTER =
            "GUEST-COUNTERS now pgscan_kswapd=0 pageoutrun=16 oom_kill=1 allocstall=19 tcp_retrans_segs=26 eth0_rx_dropped=0\n";

    @Test
    void readsTheLineAmongOthers() {
        GuestCounters counters = GuestCounters.parse(BEFORE);

        assertEquals(2, counters.get("pageoutrun"));
        assertEquals(0, counters.get("no_such_counter"));
        assertEquals("pgscan_kswapd=0 pageoutrun=2 oom_kill=0 allocstall=0 tcp_retrans_segs=1 eth0_rx_dropped=0", counters.summary());
    }

    @Test
    void sinceGivesWhatGrew() {
        GuestCounters grown = GuestCounters.parse(AFTER).since(GuestCounters.parse(BEFORE));

        assertEquals(14, grown.get("pageoutrun"));
        assertEquals(1, grown.get("oom_kill"));
        assertEquals(25, grown.get("tcp_retrans_segs"));
    }

    @Test
    void refusesOutputWithoutTheLine() {
        assertThrows(IllegalArgumentException.class, () -> GuestCounters.parse("sh: guest-stress: not found"));
    }
}
