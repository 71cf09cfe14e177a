package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.net.VirtioNet;
import dev.lowmem.vmm.core.pool.PoolStats;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Every queue pair's counters at one moment, with the features the driver took: what a stats
 * line shows. Each counter is read whole but the set is not atomic: a worker may count during the
 * read, so a line can be a burst behind in one place and not in another.
 *
 * @param negotiated the driver's features, 0 before negotiation
 * @param hostDrops frames the host side dropped on their way to the guest ({@link
 *        dev.lowmem.devices.port.Port#hostDrops()})
 * @param pool the packet pool's state and counters
 * @param gc the JVM's collections so far
 */
record StatsSnapshot(Instant time, long negotiated, List<PairStats> pairs, long hostDrops, PoolStats pool,
        GcStats gc) {

    StatsSnapshot {
        pairs = List.copyOf(pairs);
    }

    static StatsSnapshot of(VirtioNet device, Instant time) {
        List<PairStats> pairs = new ArrayList<>(device.queuePairs());
        for (int i = 0; i < device.queuePairs(); i++) {
            pairs.add(PairStats.of(device, i));
        }
        return new StatsSnapshot(time, device.negotiatedFeatures(), pairs, device.port().hostDrops(),
                device.pool().stats(), GcStats.now());
    }
}
