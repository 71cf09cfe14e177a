package dev.lowmem.tools.vhostusernet;

import dev.lowmem.vmm.core.pool.PoolStats;
import java.time.Instant;
import java.util.List;

/**
 * Every device's counters at one moment, and with {@code --switch} every switch port's: what a
 * stats line shows. Each counter is read whole but the set is not atomic: a worker may count
 * during the read, so a line can be a burst behind in one place and not in another.
 *
 * @param devices one, or with {@code --switch} one per socket
 * @param switchPorts empty without {@code --switch}
 * @param pool the packet pool's state and counters
 * @param gc the JVM's collections so far
 */
record StatsSnapshot(Instant time, List<DeviceStats> devices, List<SwitchPortStats> switchPorts, PoolStats pool,
        GcStats gc) {

    StatsSnapshot {
        devices = List.copyOf(devices);
        switchPorts = List.copyOf(switchPorts);
    }

    /** One device, without a switch: what the command serves without {@code --switch}. */
    StatsSnapshot(Instant time, long negotiated, List<PairStats> pairs, long hostDrops, PoolStats pool, GcStats gc) {
        this(time, List.of(new DeviceStats(null, negotiated, pairs, hostDrops)), List.of(), pool, gc);
    }

    /** Whether it is the one device of a command without {@code --switch}, printed as it always was. */
    boolean single() {
        return devices.size() == 1 && devices.getFirst().name() == null;
    }
}
