package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.net.NetCounter;
import dev.lowmem.devices.port.sw.SwitchCounter;
import dev.lowmem.virtio.Features;
import java.time.temporal.ChronoUnit;
import java.util.List;

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
 * state and counters are the {@code pool_} keys. The keys and their order are {@link StatsValue}'s
 * lists, which the metrics share. Written by hand: numbers and two strings need no library.
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
            appendValues(StatsValue.DEVICE, device, json);
            appendValues(StatsValue.POOL, snapshot.pool(), json);
            appendPairs(device, json);
            return json.append("}\n").toString();
        }
        appendGc(snapshot, json);
        appendValues(StatsValue.POOL, snapshot.pool(), json);
        json.append(",\"devices\":[");
        for (int i = 0; i < snapshot.devices().size(); i++) {
            DeviceStats device = snapshot.devices().get(i);
            json.append(i > 0 ? ",{\"device\":" : "{\"device\":");
            quote(device.name(), json);
            appendNegotiated(device, json);
            appendValues(StatsValue.DEVICE, device, json);
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
        appendValues(StatsValue.GC, snapshot.gc(), json);
    }

    private static void appendPairs(DeviceStats device, StringBuilder json) {
        json.append(",\"pairs\":[");
        for (int i = 0; i < device.pairs().size(); i++) {
            PairStats pair = device.pairs().get(i);
            json.append(i > 0 ? ",{\"pair\":" : "{\"pair\":").append(pair.pair());
            appendValues(StatsValue.PAIR, pair, json);
            json.append('}');
        }
        json.append(']');
    }

    private static void appendSwitchPort(SwitchPortStats port, StringBuilder json) {
        json.append("{\"port\":").append(port.port()).append(",\"name\":");
        quote(port.name(), json);
        appendValues(StatsValue.SWITCH_PORT, port, json);
        json.append('}');
    }

    /** {@code ,"key":value} for each of {@code values} read from {@code part}. */
    private static <T> void appendValues(List<StatsValue<T>> values, T part, StringBuilder json) {
        for (StatsValue<T> value : values) {
            json.append(",\"").append(value.key()).append("\":").append(value.of(part));
        }
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
