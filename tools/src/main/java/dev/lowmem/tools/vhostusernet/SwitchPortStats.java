package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.port.sw.SwitchCounter;
import dev.lowmem.devices.port.sw.SwitchMember;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * One switch port's counters read at one moment, and the frames waiting in its inbox.
 *
 * @param name the device's socket, or the uplink's TAP
 * @param values the counters read; one left out counts as 0
 */
record SwitchPortStats(int port, String name, Map<SwitchCounter, Long> values, int inbox) {

    SwitchPortStats {
        values = Collections.unmodifiableMap(values.isEmpty() ? new EnumMap<>(SwitchCounter.class)
                : new EnumMap<>(values));
    }

    static SwitchPortStats of(SwitchMember member) {
        Map<SwitchCounter, Long> values = new EnumMap<>(SwitchCounter.class);
        for (SwitchCounter counter : SwitchCounter.values()) {
            values.put(counter, member.counters().get(counter));
        }
        return new SwitchPortStats(member.index(), member.name(), values, member.inboxDepth());
    }

    long get(SwitchCounter counter) {
        return values.getOrDefault(counter, 0L);
    }

    /** Frames lost for this port, over every drop reason. */
    long drops() {
        return values.entrySet().stream().filter(value -> value.getKey().isDrop()).mapToLong(Map.Entry::getValue).sum();
    }
}
