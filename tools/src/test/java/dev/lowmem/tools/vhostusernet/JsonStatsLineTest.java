package dev.lowmem.tools.vhostusernet;

import static dev.lowmem.tools.vhostusernet.PoolFixtures.NO_POOL;
import static dev.lowmem.tools.vhostusernet.PoolFixtures.POOL;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowmem.devices.net.NetCounter;
import dev.lowmem.devices.port.sw.SwitchCounter;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonStatsLineTest {
    private static final Instant TIME = Instant.parse("2026-11-23T10:41:20.123456Z");
    private static final JsonStatsLine JSON = new JsonStatsLine();

    @Test
    void everyCounterByItsKeyTheDropsSummedAndTheBacklog() {
        Map<NetCounter, Long> values = new EnumMap<>(NetCounter.class);
        for (NetCounter counter : NetCounter.values()) {
            values.put(counter, (long) counter.ordinal() + 1);
        }
        PairStats pair = new PairStats(3, values, 7, 0);
        long negotiated = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX);

        String line = JSON.format(new StatsSnapshot(TIME, negotiated, List.of(pair), 12, POOL, new GcStats(2, 7)));

        assertEquals("{\"time\":\"2026-11-23T10:41:20.123Z\",\"negotiated\":\"RING_EVENT_IDX | VERSION_1\","
                + "\"gc_collections\":2,\"gc_ms\":7,\"host_drops\":12,\"pool_budget_bytes\":67108864,"
                + "\"pool_allocated_bytes\":1048576,\"pool_slabs\":1,\"pool_free_buffers\":448,\"pool_reserve_target\":256,"
                + "\"pool_users\":1,\"pool_takes\":40,\"pool_cache_misses\":2,\"pool_reserve_takes\":3,"
                + "\"pool_budget_failures\":4,\"pool_native_failures\":5,\"pool_refill_rounds\":6,\"pairs\":[{\"pair\":3,\"tx_frames\":1,\"tx_bytes\":2,\"tx_kicks\":3,\"tx_interrupts\":4,"
                + "\"tx_port_full\":5,\"tx_drop_malformed_chain\":6,\"tx_drop_short_frame\":7,\"tx_drop_oversized\":8,"
                + "\"tx_drop_bad_header\":9,\"tx_drop_port_error\":10,\"rx_frames\":11,\"rx_bytes\":12,"
                + "\"rx_kicks\":13,\"rx_interrupts\":14,\"rx_starved\":15,\"rx_starved_ns\":16,\"rx_held\":17,"
                + "\"rx_pool_refused\":18,\"rx_backlog_full\":19,\"rx_drop_malformed_chain\":20,\"rx_drop_no_room\":21,"
                + "\"rx_drop_port_error\":22,\"rx_filtered\":23,\"rx_drop_backlog\":24,\"tx_faults\":25,\"rx_faults\":26,"
                + "\"ctrl_commands\":27,\"ctrl_errors\":28,\"ctrl_faults\":29,\"worker_sleeps\":30,"
                + "\"worker_errors\":31,\"rarp_sent\":32,\"rarp_ignored\":33,"
                + "\"drops\":" + (6 + 7 + 8 + 9 + 10 + 20 + 21 + 22 + 24) + ",\"backlog\":7,\"worker_alloc_bytes\":0}]}\n", line);
    }

    @Test
    void withASwitchTheDevicesByTheirSocketsAndEverySwitchCounterByItsKey() {
        Map<SwitchCounter, Long> values = new EnumMap<>(SwitchCounter.class);
        for (SwitchCounter counter : SwitchCounter.values()) {
            values.put(counter, (long) counter.ordinal() + 1);
        }
        String line = JSON.format(new StatsSnapshot(TIME, List.of(new DeviceStats("a.sock", 0, List.of(), 0),
                new DeviceStats("b.sock", Features.of(Feature.VERSION_1), List.of(), 3)),
                List.of(new SwitchPortStats(0, "a.sock", values, 9)), NO_POOL, GcStats.NONE));

        assertEquals(1, line.lines().count());
        assertEquals(true, line.contains(",\"pool_refill_rounds\":0,\"devices\":[{\"device\":\"a.sock\","
                + "\"negotiated\":\"none\",\"host_drops\":0,\"pairs\":[]},{\"device\":\"b.sock\","
                + "\"negotiated\":\"VERSION_1\",\"host_drops\":3,\"pairs\":[]}],"), line);
        assertEquals(true, line.endsWith("\"switch_ports\":[{\"port\":0,\"name\":\"a.sock\",\"frames_in\":1,"
                + "\"bytes_in\":2,\"flooded\":3,\"frames_out\":4,\"bytes_out\":5,\"frames_direct\":6,"
                + "\"drop_flood_full\":7,\"drop_no_buffer\":8,\"drop_no_receiver\":9,\"drop_reset\":10,"
                + "\"drop_same_port\":11,\"drop_offload\":12,\"drop_short_frame\":13,\"drop_port_error\":14,"
                + "\"drops\":" + (7 + 8 + 9 + 10 + 11 + 12 + 13 + 14)
                + ",\"inbox\":9}]}\n"), line);
    }

    @Test
    void onePairAfterAnotherOnOneLine() {
        String line = JSON.format(new StatsSnapshot(TIME, 0, List.of(new PairStats(0, Map.of(), 0, 0),
                new PairStats(1, Map.of(NetCounter.RX_FRAMES, 9L), 0, 0)), 0, NO_POOL, GcStats.NONE));

        assertEquals(1, line.lines().count());
        assertEquals(true, line.contains("\"negotiated\":\"none\""), line);
        assertEquals(true, line.contains("},{\"pair\":1,"), line);
        assertEquals(true, line.contains("\"rx_frames\":9,"), line);
    }

    @Test
    void beforeAnyPairIsThereTheListIsEmpty() {
        assertEquals("{\"time\":\"2026-11-23T10:41:20.123Z\",\"negotiated\":\"none\",\"gc_collections\":0,"
                + "\"gc_ms\":0,\"host_drops\":0,\"pool_budget_bytes\":0,\"pool_allocated_bytes\":0,\"pool_slabs\":0,"
                + "\"pool_free_buffers\":0,\"pool_reserve_target\":0,\"pool_users\":0,\"pool_takes\":0,"
                + "\"pool_cache_misses\":0,\"pool_reserve_takes\":0,\"pool_budget_failures\":0,"
                + "\"pool_native_failures\":0,\"pool_refill_rounds\":0,\"pairs\":[]}\n", JSON.format(new StatsSnapshot(TIME, 0, List.of(), 0, NO_POOL, GcStats.NONE)));
    }

    @Test
    void stringsAreEscaped() {
        StringBuilder json = new StringBuilder();
        JsonStatsLine.quote("a\"b\\c\nd\u0001", json);

        assertEquals("\"a\\\"b\\\\c\\nd\\u0001\"", json.toString());
    }
}
