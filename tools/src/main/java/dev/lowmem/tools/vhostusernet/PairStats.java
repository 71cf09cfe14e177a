package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.net.NetCounter;
import dev.lowmem.devices.net.QueuePair;
import dev.lowmem.devices.net.VirtioNet;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * One queue pair's counters read at one moment, the frames its port holds for the guest, and the
 * heap bytes its worker thread has allocated so far.
 *
 * @param values the counters read; one left out counts as 0
 * @param workerAllocatedBytes -1 where the JVM does not count
 */
record PairStats(int pair, Map<NetCounter, Long> values, int backlog, long workerAllocatedBytes) {

    PairStats {
        values = Collections.unmodifiableMap(values.isEmpty() ? new EnumMap<>(NetCounter.class) : new EnumMap<>(values));
    }

    static PairStats of(VirtioNet device, int index) {
        QueuePair pair = device.pair(index);
        Map<NetCounter, Long> values = new EnumMap<>(NetCounter.class);
        for (NetCounter counter : NetCounter.values()) {
            values.put(counter, pair.counters().get(counter));
        }
        return new PairStats(index, values, pair.backlog(), device.workerAllocatedBytes(index));
    }

    long get(NetCounter counter) {
        return values.getOrDefault(counter, 0L);
    }

    /** Frames dropped, over every drop reason. */
    long drops() {
        return values.entrySet().stream().filter(value -> value.getKey().isDrop()).mapToLong(Map.Entry::getValue).sum();
    }
}
