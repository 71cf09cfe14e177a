package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.net.NetCounter;
import dev.lowmem.devices.net.QueuePair;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * One queue pair's counters read at one moment, and the frames its port holds for the guest.
 *
 * @param values the counters read; one left out counts as 0
 */
record PairStats(int pair, Map<NetCounter, Long> values, int backlog) {

    PairStats {
        values = Collections.unmodifiableMap(values.isEmpty() ? new EnumMap<>(NetCounter.class) : new EnumMap<>(values));
    }

    static PairStats of(QueuePair pair) {
        Map<NetCounter, Long> values = new EnumMap<>(NetCounter.class);
        for (NetCounter counter : NetCounter.values()) {
            values.put(counter, pair.counters().get(counter));
        }
        return new PairStats(pair.index(), values, pair.port().backlog());
    }

    long get(NetCounter counter) {
        return values.getOrDefault(counter, 0L);
    }
}
