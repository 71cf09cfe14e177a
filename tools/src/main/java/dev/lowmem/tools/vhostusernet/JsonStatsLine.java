package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.net.NetCounter;
import dev.lowmem.devices.port.sw.SwitchCounter;
import dev.lowmem.virtio.Features;
import dev.lowmem.vmm.core.pool.PoolStats;
import java.time.temporal.ChronoUnit;

/**
 * A snapshot as one line of JSON, for {@code jq} and scripts:
 *
 * <pre>{"time":"2026-11-23T10:41:20.123Z","negotiated":"VERSION_1 | ...","gc_collections":0,"gc_ms":0,
 * "host_drops":0,"pool_budget_bytes":67108864,"pool_allocated_bytes":1048576,...,"pool_native_failures":0,
 * "pairs":[{"pair":0,"tx_frames":1204,...,"rx_drop_backlog":0,"drops":0,"backlog":0,"worker_alloc_bytes":0}]}</pre>
 *
 * <p>With {@code --switch}, the device keys move into {@code "devices":[{"device":"a.sock","negotiated":...,
 * "host_drops":0,"pairs":[...]},...]}, and {@code "switch_ports":[{"port":0,"name":"a.sock","frames_in":...,
 * "drop_reset":0,...,"drops":0,"inbox":0},...]} follows, every {@link SwitchCounter#key()} in each.
 *
 * <p>Every counter is there, zero or not, under its {@link NetCounter#key()}, so a reader finds the
 * same keys in every line; {@code drops} is their sum over the drop reasons. {@code host_drops}
 * counts the frames the host side dropped before the device read them (a TAP's queue). The packet pool's
 * state and counters are the {@code pool_} keys. Written by hand: numbers and two strings need
 * no library.
 */
final class JsonStatsLine implements StatsFormatter {

    @Override
    public String format(StatsSnapshot snapshot) {
        StringBuilder json = new StringBuilder(256 + 512 * snapshot.devices().size());
        json.append("{\"time\":");
        quote(snapshot.time().truncatedTo(ChronoUnit.MILLIS).toString(), json);
        if (snapshot.single()) {
            DeviceStats device = snapshot.devices().getFirst();
            appendNegotiated(device, json);
            appendGc(snapshot, json);
            json.append(",\"host_drops\":").append(device.hostDrops());
            appendPool(snapshot.pool(), json);
            appendPairs(device, json);
            return json.append("}\n").toString();
        }
        appendGc(snapshot, json);
        appendPool(snapshot.pool(), json);
        json.append(",\"devices\":[");
        for (int i = 0; i < snapshot.devices().size(); i++) {
            DeviceStats device = snapshot.devices().get(i);
            json.append(i > 0 ? ",{\"device\":" : "{\"device\":");
            quote(device.name(), json);
            appendNegotiated(device, json);
            json.append(",\"host_drops\":").append(device.hostDrops());
            appendPairs(device, json);
            json.append('}');
        }
        json.append("],\"switch_ports\":[");
        for (int i = 0; i < snapshot.switchPorts().size(); i++) {
            if (i > 0) {
                json.append(',');
            }
            appendSwitchPort(snapshot.switchPorts().get(i), json);
        }
        return json.append("]}\n").toString();
    }

    private static void appendNegotiated(DeviceStats device, StringBuilder json) {
        json.append(",\"negotiated\":");
        quote(Features.describe(device.negotiated()), json);
    }

    private static void appendGc(StatsSnapshot snapshot, StringBuilder json) {
        json.append(",\"gc_collections\":").append(snapshot.gc().collections());
        json.append(",\"gc_ms\":").append(snapshot.gc().millis());
    }

    private static void appendPairs(DeviceStats device, StringBuilder json) {
        json.append(",\"pairs\":[");
        for (int i = 0; i < device.pairs().size(); i++) {
            if (i > 0) {
                json.append(',');
            }
            appendPair(device.pairs().get(i), json);
        }
        json.append(']');
    }

    private static void appendSwitchPort(SwitchPortStats port, StringBuilder json) {
        json.append("{\"port\":").append(port.port()).append(",\"name\":");
        quote(port.name(), json);
        for (SwitchCounter counter : SwitchCounter.values()) {
            json.append(",\"").append(counter.key()).append("\":").append(port.get(counter));
        }
        json.append(",\"drops\":").append(port.drops()).append(",\"inbox\":").append(port.inbox()).append('}');
    }

    private static void appendPool(PoolStats pool, StringBuilder json) {
        json.append(",\"pool_budget_bytes\":").append(pool.budgetBytes())
                .append(",\"pool_allocated_bytes\":").append(pool.allocatedBytes())
                .append(",\"pool_slabs\":").append(pool.slabs())
                .append(",\"pool_free_buffers\":").append(pool.freeBuffers())
                .append(",\"pool_reserve_target\":").append(pool.reserveTarget())
                .append(",\"pool_users\":").append(pool.users())
                .append(",\"pool_takes\":").append(pool.takes())
                .append(",\"pool_cache_misses\":").append(pool.cacheMisses())
                .append(",\"pool_reserve_takes\":").append(pool.reserveTakes())
                .append(",\"pool_budget_failures\":").append(pool.budgetFailures())
                .append(",\"pool_native_failures\":").append(pool.nativeFailures())
                .append(",\"pool_refill_rounds\":").append(pool.refillRounds());
    }

    private static void appendPair(PairStats pair, StringBuilder json) {
        json.append("{\"pair\":").append(pair.pair());
        long drops = 0;
        for (NetCounter counter : NetCounter.values()) {
            long value = pair.get(counter);
            json.append(",\"").append(counter.key()).append("\":").append(value);
            if (counter.isDrop()) {
                drops += value;
            }
        }
        json.append(",\"drops\":").append(drops);
        json.append(",\"backlog\":").append(pair.backlog());
        json.append(",\"worker_alloc_bytes\":").append(pair.workerAllocatedBytes()).append('}');
    }

    /** A JSON string (RFC 8259, 7): quotes, backslashes and control characters escaped. */
    static void quote(String text, StringBuilder json) {
        json.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                case '\n' -> json.append("\\n");
                case '\r' -> json.append("\\r");
                case '\t' -> json.append("\\t");
                default -> {
                    if (c < 0x20) {
                        json.append(String.format("\\u%04x", (int) c));
                    } else {
                        json.append(c);
                    }
                }
            }
        }
        json.append('"');
    }
}
