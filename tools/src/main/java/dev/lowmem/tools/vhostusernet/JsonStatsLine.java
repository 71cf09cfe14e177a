package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.net.NetCounter;
import dev.lowmem.virtio.Features;
import java.time.temporal.ChronoUnit;

/**
 * A snapshot as one line of JSON, for {@code jq} and scripts:
 *
 * <pre>{"time":"2026-11-23T10:41:20.123Z","negotiated":"VERSION_1 | ...","gc_collections":0,"gc_ms":0,
 * "pairs":[{"pair":0,"tx_frames":1204,...,"rx_drop_port_error":0,"drops":0,"backlog":0,"worker_alloc_bytes":0}]}</pre>
 *
 * <p>Every counter is there, zero or not, under its {@link NetCounter#key()}, so a reader finds the
 * same keys in every line; {@code drops} is their sum over the drop reasons. Written by hand:
 * numbers and two strings need no library.
 */
final class JsonStatsLine implements StatsFormatter {

    @Override
    public String format(StatsSnapshot snapshot) {
        StringBuilder json = new StringBuilder(256 + 512 * snapshot.pairs().size());
        json.append("{\"time\":");
        quote(snapshot.time().truncatedTo(ChronoUnit.MILLIS).toString(), json);
        json.append(",\"negotiated\":");
        quote(Features.describe(snapshot.negotiated()), json);
        json.append(",\"gc_collections\":").append(snapshot.gc().collections());
        json.append(",\"gc_ms\":").append(snapshot.gc().millis());
        json.append(",\"pairs\":[");
        for (int i = 0; i < snapshot.pairs().size(); i++) {
            if (i > 0) {
                json.append(',');
            }
            appendPair(snapshot.pairs().get(i), json);
        }
        return json.append("]}\n").toString();
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
