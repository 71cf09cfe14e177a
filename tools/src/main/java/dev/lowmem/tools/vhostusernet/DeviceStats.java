package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.net.VirtioNet;
import java.util.ArrayList;
import java.util.List;

/**
 * One device's counters at one moment: every queue pair's, with the features its driver took.
 *
 * @param name the device's socket with {@code --switch}, which serves several; null for the one device
 * @param negotiated the driver's features, 0 before negotiation
 * @param hostDrops frames the host side dropped on their way to the guest ({@link
 *        dev.lowmem.devices.port.Port#hostDrops()})
 */
record DeviceStats(String name, long negotiated, List<PairStats> pairs, long hostDrops) {

    DeviceStats {
        pairs = List.copyOf(pairs);
    }

    static DeviceStats of(String name, VirtioNet device) {
        List<PairStats> pairs = new ArrayList<>(device.queuePairs());
        for (int i = 0; i < device.queuePairs(); i++) {
            pairs.add(PairStats.of(device, i));
        }
        return new DeviceStats(name, device.negotiatedFeatures(), pairs, device.port().hostDrops());
    }
}
