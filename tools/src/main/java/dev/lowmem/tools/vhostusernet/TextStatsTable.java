package dev.lowmem.tools.vhostusernet;

import static dev.lowmem.devices.net.NetCounter.RX_BYTES;
import static dev.lowmem.devices.net.NetCounter.RX_FRAMES;
import static dev.lowmem.devices.net.NetCounter.RX_HELD;
import static dev.lowmem.devices.net.NetCounter.RX_INTERRUPTS;
import static dev.lowmem.devices.net.NetCounter.RX_KICKS;
import static dev.lowmem.devices.net.NetCounter.RX_STARVED;
import static dev.lowmem.devices.net.NetCounter.RX_STARVED_NS;
import static dev.lowmem.devices.net.NetCounter.TX_BYTES;
import static dev.lowmem.devices.net.NetCounter.TX_FRAMES;
import static dev.lowmem.devices.net.NetCounter.TX_INTERRUPTS;
import static dev.lowmem.devices.net.NetCounter.TX_KICKS;
import static dev.lowmem.devices.net.NetCounter.TX_PORT_FULL;

import static dev.lowmem.devices.port.sw.SwitchCounter.BYTES_IN;
import static dev.lowmem.devices.port.sw.SwitchCounter.BYTES_OUT;
import static dev.lowmem.devices.port.sw.SwitchCounter.FLOODED;
import static dev.lowmem.devices.port.sw.SwitchCounter.FRAMES_IN;
import static dev.lowmem.devices.port.sw.SwitchCounter.FRAMES_OUT;

import dev.lowmem.devices.net.NetCounter;
import dev.lowmem.devices.port.sw.SwitchCounter;
import dev.lowmem.vmm.core.pool.PoolStats;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * A snapshot as a table for people, a row per direction of each pair, columns as wide as their
 * widest cell:
 *
 * <pre>
 * stats at 2026-11-23 10:41:20.123
 * pair dir  frames   bytes kicks interrupts port_full starved starved_ms held backlog drops
 *    0 tx     1204 1782920    17         17         0       -          -    -       - short_frame=2
 *    0 rx        0       0     1          0         -       3         12   40       0 -
 * host side: 0 frames dropped before RX read them
 * pool: 1048576 of 64M budget in 1 slab, 448 free buffers (reserve 256), 1 user; 40 takes, 0 cache misses, 0 reserve takes; failures: 0 budget, 0 native
 * heap: workers allocated 0 B (pair 0: 0 B); 0 gc collections, 0 ms
 * </pre>
 *
 * {@code port_full} is how often TX found the port full and waited, {@code starved} how often RX
 * found the guest's ring empty, {@code starved_ms} for how long in all, {@code held} the frames
 * it took into its backlog meanwhile, {@code backlog} the frames held for the guest now (in the
 * backlog and in the port). Drops show only the reasons that happened, named without their
 * direction ({@code tx_drop_short_frame} in TX's row is {@code short_frame}). The pool line
 * says how much memory the packet pool holds and how often it could not give a buffer. The last line says what
 * the workers allocated on the heap since they started (nothing, in steady state) and how often
 * the JVM collected.
 *
 * <p>With {@code --switch}, each device's rows follow a line naming its socket ({@code device a.sock}),
 * and a table of the switch ports follows them: a row per port with the frames and bytes its side
 * sent in and received out, how many it flooded, its inbox now, and its drops that happened
 * ({@code drop_flood_full} as {@code flood_full}).
 */
final class TextStatsTable implements StatsFormatter {
    private static final String[] HEADER = {"pair", "dir", "frames", "bytes", "kicks", "interrupts", "port_full",
        "starved", "starved_ms", "held", "backlog", "drops"};
    /** Left-aligned: the direction and the list of drops; the rest are numbers, right-aligned. */
    private static final boolean[] LEFT = {false, true, false, false, false, false, false, false, false, false, false,
        true};
    private static final String[] SWITCH_HEADER = {"port", "name", "frames_in", "bytes_in", "flooded", "frames_out",
        "bytes_out", "inbox", "drops"};
    private static final boolean[] SWITCH_LEFT = {false, true, false, false, false, false, false, false, true};
    private static final String NOT_APPLICABLE = "-";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

    private final DateTimeFormatter time;

    /** @param zone the zone the heading's time is written in */
    TextStatsTable(ZoneId zone) {
        this.time = TIME.withZone(zone);
    }

    @Override
    public String format(StatsSnapshot snapshot) {
        StringBuilder table = new StringBuilder("stats at ").append(time.format(snapshot.time())).append('\n');
        for (DeviceStats device : snapshot.devices()) {
            if (!snapshot.single()) {
                table.append("device ").append(device.name()).append('\n');
            }
            appendPairs(device, table);
        }
        if (snapshot.single()) {
            table.append("host side: ").append(snapshot.devices().getFirst().hostDrops())
                    .append(" frames dropped before RX read them\n");
        }
        if (!snapshot.switchPorts().isEmpty()) {
            appendSwitch(snapshot.switchPorts(), table);
        }
        appendPool(snapshot.pool(), table);
        return appendHeap(snapshot, table).toString();
    }

    private static void appendPairs(DeviceStats device, StringBuilder table) {
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADER);
        for (PairStats pair : device.pairs()) {
            String index = Integer.toString(pair.pair());
            rows.add(new String[] {index, "tx", count(pair, TX_FRAMES), count(pair, TX_BYTES), count(pair, TX_KICKS),
                count(pair, TX_INTERRUPTS), count(pair, TX_PORT_FULL), NOT_APPLICABLE, NOT_APPLICABLE,
                NOT_APPLICABLE, NOT_APPLICABLE, drops(pair, "tx_drop_")});
            rows.add(new String[] {index, "rx", count(pair, RX_FRAMES), count(pair, RX_BYTES), count(pair, RX_KICKS),
                count(pair, RX_INTERRUPTS), NOT_APPLICABLE, count(pair, RX_STARVED),
                Long.toString(pair.get(RX_STARVED_NS) / 1_000_000), count(pair, RX_HELD),
                Integer.toString(pair.backlog()), drops(pair, "rx_drop_")});
        }
        appendTable(rows, LEFT, table);
    }

    private static void appendSwitch(List<SwitchPortStats> ports, StringBuilder table) {
        List<String[]> rows = new ArrayList<>();
        rows.add(SWITCH_HEADER);
        for (SwitchPortStats port : ports) {
            StringJoiner drops = new StringJoiner(" ");
            for (SwitchCounter counter : SwitchCounter.values()) {
                if (counter.isDrop() && port.get(counter) != 0) {
                    drops.add(counter.key().substring("drop_".length()) + "=" + port.get(counter));
                }
            }
            rows.add(new String[] {Integer.toString(port.port()), port.name(), count(port, FRAMES_IN),
                count(port, BYTES_IN), count(port, FLOODED), count(port, FRAMES_OUT), count(port, BYTES_OUT),
                Integer.toString(port.inbox()), drops.length() == 0 ? NOT_APPLICABLE : drops.toString()});
        }
        table.append("switch\n");
        appendTable(rows, SWITCH_LEFT, table);
    }

    private static String count(SwitchPortStats port, SwitchCounter counter) {
        return Long.toString(port.get(counter));
    }

    private static void appendPool(PoolStats pool, StringBuilder table) {
        table.append("pool: ").append(pool.allocatedBytes()).append(" of ").append(ByteSize.format(pool.budgetBytes()))
                .append(" budget in ").append(pool.slabs()).append(pool.slabs() == 1 ? " slab, " : " slabs, ")
                .append(pool.freeBuffers()).append(" free buffers (reserve ").append(pool.reserveTarget())
                .append("), ").append(pool.users()).append(pool.users() == 1 ? " user; " : " users; ")
                .append(pool.takes()).append(" takes, ").append(pool.cacheMisses()).append(" cache misses, ")
                .append(pool.reserveTakes()).append(" reserve takes; failures: ").append(pool.budgetFailures())
                .append(" budget, ").append(pool.nativeFailures()).append(" native\n");
    }

    private static StringBuilder appendHeap(StatsSnapshot snapshot, StringBuilder table) {
        long total = 0;
        StringJoiner perPair = new StringJoiner(", ", " (", ")").setEmptyValue("");
        for (DeviceStats device : snapshot.devices()) {
            String prefix = device.name() == null ? "" : device.name() + " ";
            for (PairStats pair : device.pairs()) {
                total += Math.max(0, pair.workerAllocatedBytes());
                perPair.add(prefix + "pair " + pair.pair() + ": " + pair.workerAllocatedBytes() + " B");
            }
        }
        return table.append("heap: workers allocated ").append(total).append(" B")
                .append(perPair.toString())
                .append("; ").append(snapshot.gc().collections()).append(" gc collections, ")
                .append(snapshot.gc().millis()).append(" ms\n");
    }

    private static String count(PairStats pair, NetCounter counter) {
        return Long.toString(pair.get(counter));
    }

    /** "malformed_chain=1 short_frame=2" for the direction's drop counters that are not 0; "-" if none is. */
    private static String drops(PairStats pair, String prefix) {
        StringJoiner drops = new StringJoiner(" ");
        for (NetCounter counter : NetCounter.values()) {
            long value = pair.get(counter);
            if (counter.isDrop() && value != 0 && counter.key().startsWith(prefix)) {
                drops.add(counter.key().substring(prefix.length()) + "=" + value);
            }
        }
        return drops.length() == 0 ? NOT_APPLICABLE : drops.toString();
    }

    private static void appendTable(List<String[]> rows, boolean[] left, StringBuilder table) {
        int[] widths = widths(rows);
        for (String[] row : rows) {
            appendRow(row, widths, left, table);
        }
    }

    private static int[] widths(List<String[]> rows) {
        int[] widths = new int[rows.getFirst().length];
        for (String[] row : rows) {
            for (int column = 0; column < row.length; column++) {
                widths[column] = Math.max(widths[column], row[column].length());
            }
        }
        return widths;
    }

    private static void appendRow(String[] row, int[] widths, boolean[] left, StringBuilder table) {
        for (int column = 0; column < row.length; column++) {
            if (column > 0) {
                table.append(' ');
            }
            String cell = row[column];
            boolean last = column == row.length - 1;
            if (left[column]) {
                table.append(cell);
                if (!last) {
                    table.repeat(' ', widths[column] - cell.length());
                }
            } else {
                table.repeat(' ', widths[column] - cell.length()).append(cell);
            }
        }
        table.append('\n');
    }
}
