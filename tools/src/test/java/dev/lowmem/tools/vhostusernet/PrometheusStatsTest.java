package dev.lowmem.tools.vhostusernet;

import static dev.lowmem.tools.vhostusernet.PoolFixtures.POOL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.net.NetCounter;
import dev.lowmem.devices.port.sw.SwitchCounter;
import dev.lowmem.tools.vhostusernet.PrometheusStats.MetricName;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class PrometheusStatsTest {
    private static final Instant TIME = Instant.parse("2026-11-23T10:41:20.123456Z");

    @Test
    void namesAreTheKeysWithThePrefixAndTimesInSeconds() {
        assertEquals(new MetricName("vhost_user_net_tx_frames", 1, null), MetricName.of("", "tx_frames"));
        assertEquals(new MetricName("vhost_user_net_rx_starved_seconds", 1e9, Unit.SECONDS),
                MetricName.of("", "rx_starved_ns"));
        assertEquals(new MetricName("vhost_user_net_gc_seconds", 1e3, Unit.SECONDS),
                MetricName.of("", "gc_ms"));
        assertEquals(new MetricName("vhost_user_net_switch_port_bytes_in", 1, null),
                MetricName.of("switch_port_", "bytes_in"));
        assertEquals(new MetricName("vhost_user_net_pool_budget_bytes", 1, Unit.BYTES),
                MetricName.of("", "pool_budget_bytes"));
    }

    @Test
    void oneDeviceCountersEndInTotalWithTheQueuePairAsLabel() {
        String text = text(new StatsSnapshot(TIME, 0, List.of(
                new PairStats(0, Map.of(NetCounter.TX_FRAMES, 10L, NetCounter.TX_BYTES, 600L,
                        NetCounter.RX_STARVED_NS, 1_500_000_000L, NetCounter.TX_DROP_SHORT_FRAME, 2L), 3, 4096),
                new PairStats(1, Map.of(), 0, -1)), 5, POOL, new GcStats(2, 9)));

        assertSamples(text,
                "vhost_user_net_tx_frames_total{queue_pair=\"0\"} 10.0",
                "vhost_user_net_tx_bytes_total{queue_pair=\"0\"} 600.0",
                "vhost_user_net_tx_frames_total{queue_pair=\"1\"} 0.0",
                "vhost_user_net_rx_starved_seconds_total{queue_pair=\"0\"} 1.5",
                "vhost_user_net_drops_total{queue_pair=\"0\"} 2.0",
                "vhost_user_net_backlog{queue_pair=\"0\"} 3.0",
                "vhost_user_net_worker_alloc_bytes_total{queue_pair=\"0\"} 4096.0",
                "vhost_user_net_host_drops_total 5.0",
                "vhost_user_net_pool_budget_bytes 6.7108864E7",
                "vhost_user_net_pool_takes_total 40.0",
                "vhost_user_net_gc_collections_total 2.0",
                "vhost_user_net_gc_seconds_total 0.009");
        assertFalse(text.contains("vhost_user_net_worker_alloc_bytes_total{queue_pair=\"1\"}"),
                "no sample where the JVM does not count: " + text);
        assertTrue(text.contains("# HELP vhost_user_net_tx_frames_total " + NetCounter.TX_FRAMES.description() + "\n"
                + "# TYPE vhost_user_net_tx_frames_total counter\n"), text);
        assertTrue(text.contains("# TYPE vhost_user_net_pool_free_buffers gauge\n"), text);
        assertFalse(text.contains("switch_port"), "no switch, no switch port families: " + text);
    }

    @Test
    void everyValueOfEveryListHasAFamilyOfItsOwn() {
        StatsSnapshot snapshot = new StatsSnapshot(TIME, List.of(new DeviceStats("a.sock", 0,
                List.of(new PairStats(0, Map.of(), 0, 0)), 0)), List.of(new SwitchPortStats(0, "a.sock", Map.of(), 0)),
                POOL, GcStats.NONE);
        Set<String> families = PrometheusStats.metrics(snapshot).stream()
                .map(metric -> metric.getMetadata().getPrometheusName()).collect(Collectors.toSet());
        int values = StatsValue.GC.size() + StatsValue.POOL.size() + StatsValue.DEVICE.size() + StatsValue.PAIR.size()
                + StatsValue.SWITCH_PORT.size();
        assertEquals(values, families.size(), "distinct names: " + families);
    }

    @Test
    void withASwitchTheDeviceAndTheSwitchPortsAreLabels() {
        String text = text(new StatsSnapshot(TIME, List.of(new DeviceStats("a.sock", 0,
                List.of(new PairStats(0, Map.of(NetCounter.RX_FRAMES, 7L), 0, 0)), 1)),
                List.of(new SwitchPortStats(0, "a.sock", Map.of(SwitchCounter.FRAMES_IN, 9L,
                        SwitchCounter.DROP_FLOOD_FULL, 1L), 4), new SwitchPortStats(1, "vsw0", Map.of(), 0)),
                POOL, GcStats.NONE));

        assertSamples(text,
                "vhost_user_net_rx_frames_total{device=\"a.sock\",queue_pair=\"0\"} 7.0",
                "vhost_user_net_host_drops_total{device=\"a.sock\"} 1.0",
                "vhost_user_net_switch_port_frames_in_total{name=\"a.sock\",port=\"0\"} 9.0",
                "vhost_user_net_switch_port_drops_total{name=\"a.sock\",port=\"0\"} 1.0",
                "vhost_user_net_switch_port_inbox{name=\"a.sock\",port=\"0\"} 4.0",
                "vhost_user_net_switch_port_frames_in_total{name=\"vsw0\",port=\"1\"} 0.0");
    }

    /** Each of {@code expected} is a sample line of {@code text}. */
    private static void assertSamples(String text, String... expected) {
        List<String> samples = text.lines().filter(line -> !line.startsWith("#")).toList();
        assertEquals(List.of(), Stream.of(expected).filter(line -> !samples.contains(line)).toList(), text);
    }

    private static String text(StatsSnapshot snapshot) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            new PrometheusStats().write(snapshot, out);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
