package dev.lowmem.tools.vhostusernet;

import static dev.lowmem.tools.vhostusernet.PoolFixtures.NO_POOL;
import static dev.lowmem.tools.vhostusernet.PoolFixtures.POOL;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowmem.devices.net.NetCounter;
import dev.lowmem.devices.port.sw.SwitchCounter;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TextStatsTableTest {
    private static final Instant TIME = Instant.parse("2026-11-23T10:41:20.123456Z");
    private static final TextStatsTable TABLE = new TextStatsTable(ZoneOffset.UTC);

    @Test
    void aRowPerDirectionAlignedToTheWidestCell() {
        PairStats busy = new PairStats(0, Map.of(NetCounter.TX_FRAMES, 1204L, NetCounter.TX_BYTES, 1782920L,
                NetCounter.TX_KICKS, 17L, NetCounter.TX_INTERRUPTS, 17L, NetCounter.RX_KICKS, 1L,
                NetCounter.RX_STARVED, 3L, NetCounter.RX_STARVED_NS, 12_500_000L, NetCounter.RX_HELD, 40L), 0, 0);
        PairStats loaded = new PairStats(1, Map.of(NetCounter.TX_PORT_FULL, 2L, NetCounter.RX_FRAMES, 64L,
                NetCounter.RX_BYTES, 96000L, NetCounter.RX_INTERRUPTS, 4L), 12, 4096);

        String table = TABLE.format(new StatsSnapshot(TIME, Features.of(Feature.VERSION_1), List.of(busy, loaded),
                5, POOL, new GcStats(2, 7)));

        assertEquals("""
                stats at 2026-11-23 10:41:20.123
                pair dir frames   bytes kicks interrupts port_full starved starved_ms held backlog drops
                   0 tx    1204 1782920    17         17         0       -          -    -       - -
                   0 rx       0       0     1          0         -       3         12   40       0 -
                   1 tx       0       0     0          0         2       -          -    -       - -
                   1 rx      64   96000     0          4         -       0          0    0      12 -
                host side: 5 frames dropped before RX read them
                pool: 1048576 of 64M budget in 1 slab, 448 free buffers (reserve 256), 1 user; 40 takes, 2 cache misses, \
                3 reserve takes; failures: 4 budget, 5 native
                heap: workers allocated 4096 B (pair 0: 0 B, pair 1: 4096 B); 2 gc collections, 7 ms
                """, table);
    }

    @Test
    void onlyTheDropsThatHappenedNamedWithoutTheirDirection() {
        PairStats dropping = new PairStats(0, Map.of(NetCounter.TX_FRAMES, 5L, NetCounter.TX_DROP_SHORT_FRAME, 2L,
                NetCounter.TX_DROP_MALFORMED_CHAIN, 1L, NetCounter.RX_DROP_NO_ROOM, 3L), 0, 0);

        String table = TABLE.format(new StatsSnapshot(TIME, 0, List.of(dropping), 0, NO_POOL, GcStats.NONE));

        assertEquals("""
                stats at 2026-11-23 10:41:20.123
                pair dir frames bytes kicks interrupts port_full starved starved_ms held backlog drops
                   0 tx       5     0     0          0         0       -          -    -       - malformed_chain=1 short_frame=2
                   0 rx       0     0     0          0         -       0          0    0       0 no_room=3
                host side: 0 frames dropped before RX read them
                pool: 0 of 0 budget in 0 slabs, 0 free buffers (reserve 0), 0 users; 0 takes, 0 cache misses, 0 reserve \
                takes; failures: 0 budget, 0 native
                heap: workers allocated 0 B (pair 0: 0 B); 0 gc collections, 0 ms
                """, table);
    }

    @Test
    void withASwitchEachDeviceUnderItsSocketThenARowPerSwitchPort() {
        PairStats a = new PairStats(0, Map.of(NetCounter.TX_FRAMES, 12L, NetCounter.TX_BYTES, 1200L), 0, 0);
        PairStats b = new PairStats(0, Map.of(NetCounter.RX_FRAMES, 10L, NetCounter.RX_BYTES, 1000L), 0, 16);
        SwitchPortStats portA = new SwitchPortStats(0, "a.sock", Map.of(SwitchCounter.FRAMES_IN, 12L,
                SwitchCounter.BYTES_IN, 1200L, SwitchCounter.FLOODED, 2L), 0);
        SwitchPortStats portB = new SwitchPortStats(1, "b.sock", Map.of(SwitchCounter.FRAMES_OUT, 10L,
                SwitchCounter.BYTES_OUT, 1000L, SwitchCounter.DROP_FLOOD_FULL, 1L, SwitchCounter.DROP_RESET, 1L), 3);

        String table = TABLE.format(new StatsSnapshot(TIME, List.of(new DeviceStats("a.sock", 0, List.of(a), 0),
                new DeviceStats("b.sock", 0, List.of(b), 0)), List.of(portA, portB), NO_POOL, GcStats.NONE));

        assertEquals("""
                stats at 2026-11-23 10:41:20.123
                device a.sock
                pair dir frames bytes kicks interrupts port_full starved starved_ms held backlog drops
                   0 tx      12  1200     0          0         0       -          -    -       - -
                   0 rx       0     0     0          0         -       0          0    0       0 -
                device b.sock
                pair dir frames bytes kicks interrupts port_full starved starved_ms held backlog drops
                   0 tx       0     0     0          0         0       -          -    -       - -
                   0 rx      10  1000     0          0         -       0          0    0       0 -
                switch
                port name   frames_in bytes_in flooded frames_out bytes_out inbox drops
                   0 a.sock        12     1200       2          0         0     0 -
                   1 b.sock         0        0       0         10      1000     3 flood_full=1 reset=1
                pool: 0 of 0 budget in 0 slabs, 0 free buffers (reserve 0), 0 users; 0 takes, 0 cache misses, 0 reserve \
                takes; failures: 0 budget, 0 native
                heap: workers allocated 16 B (a.sock pair 0: 0 B, b.sock pair 0: 16 B); 0 gc collections, 0 ms
                """, table);
    }

    @Test
    void theHeadingsTimeIsInTheGivenZone() {
        String table = new TextStatsTable(ZoneOffset.ofHours(2)).format(new StatsSnapshot(TIME, 0, List.of(), 0, NO_POOL, GcStats.NONE));

        assertEquals("""
                stats at 2026-11-23 12:41:20.123
                pair dir frames bytes kicks interrupts port_full starved starved_ms held backlog drops
                host side: 0 frames dropped before RX read them
                pool: 0 of 0 budget in 0 slabs, 0 free buffers (reserve 0), 0 users; 0 takes, 0 cache misses, 0 reserve \
                takes; failures: 0 budget, 0 native
                heap: workers allocated 0 B; 0 gc collections, 0 ms
                """, table);
    }
}
