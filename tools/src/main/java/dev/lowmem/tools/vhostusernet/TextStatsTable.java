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

import dev.lowmem.devices.net.NetCounter;
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
 */
final class TextStatsTable implements StatsFormatter {
    private static final String[] HEADER = {"pair", "dir", "frames", "bytes", "kicks", "interrupts", "port_full",
        "starved", "starved_ms", "held", "backlog", "drops"};
    /** Left-aligned: the direction and the list of drops; the rest are numbers, right-aligned. */
    private static final boolean[] LEFT = {false, true, false, false, false, false, false, false, false, false, false,
        true};
    private static final String NOT_APPLICABLE = "-";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

    private final DateTimeFormatter time;

    /** @param zone the zone the heading's time is written in */
    TextStatsTable(ZoneId zone) {
        this.time = TIME.withZone(zone);
    }

    @Override
    public String format(StatsSnapshot snapshot) {
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADER);
        for (PairStats pair : snapshot.pairs()) {
            String index = Integer.toString(pair.pair());
            rows.add(new String[] {index, "tx", count(pair, TX_FRAMES), count(pair, TX_BYTES), count(pair, TX_KICKS),
                count(pair, TX_INTERRUPTS), count(pair, TX_PORT_FULL), NOT_APPLICABLE, NOT_APPLICABLE,
                NOT_APPLICABLE, NOT_APPLICABLE, drops(pair, "tx_drop_")});
            rows.add(new String[] {index, "rx", count(pair, RX_FRAMES), count(pair, RX_BYTES), count(pair, RX_KICKS),
                count(pair, RX_INTERRUPTS), NOT_APPLICABLE, count(pair, RX_STARVED),
                Long.toString(pair.get(RX_STARVED_NS) / 1_000_000), count(pair, RX_HELD),
                Integer.toString(pair.backlog()), drops(pair, "rx_drop_")});
        }
        StringBuilder table = new StringBuilder("stats at ").append(time.format(snapshot.time())).append('\n');
        int[] widths = widths(rows);
        for (String[] row : rows) {
            appendRow(row, widths, table);
        }
        table.append("host side: ").append(snapshot.hostDrops()).append(" frames dropped before RX read them\n");
        appendPool(snapshot.pool(), table);
        return appendHeap(snapshot, table).toString();
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
        StringJoiner perPair = new StringJoiner(", ", " (", ")");
        for (PairStats pair : snapshot.pairs()) {
            total += Math.max(0, pair.workerAllocatedBytes());
            perPair.add("pair " + pair.pair() + ": " + pair.workerAllocatedBytes() + " B");
        }
        return table.append("heap: workers allocated ").append(total).append(" B")
                .append(snapshot.pairs().isEmpty() ? "" : perPair.toString())
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

    private static int[] widths(List<String[]> rows) {
        int[] widths = new int[HEADER.length];
        for (String[] row : rows) {
            for (int column = 0; column < row.length; column++) {
                widths[column] = Math.max(widths[column], row[column].length());
            }
        }
        return widths;
    }

    private static void appendRow(String[] row, int[] widths, StringBuilder table) {
        for (int column = 0; column < row.length; column++) {
            if (column > 0) {
                table.append(' ');
            }
            String cell = row[column];
            boolean last = column == row.length - 1;
            if (LEFT[column]) {
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
