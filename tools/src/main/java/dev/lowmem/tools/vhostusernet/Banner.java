package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.net.NetDeviceOptions;
import dev.lowmem.virtio.Features;
import java.util.List;

/** The lines the command logs when it starts, and the one it logs when a front-end negotiates. */
final class Banner {
    private Banner() {
    }

    /**
     * @param port the port's own description ("sink", "tap vnet0")
     * @param offered the device's features
     * @param pid this process, for the SIGUSR1 hint
     */
    static List<String> lines(Settings settings, String port, long offered, long pid) {
        NetDeviceOptions device = settings.device();
        return List.of(
                Version.line(),
                "port: " + port + ", " + device.queuePairs() + (device.queuePairs() == 1 ? " queue pair" : " queue pairs")
                        + ", MTU " + device.mtu() + ", MAC " + device.mac() + ", poll window "
                        + device.pollWindow().toNanos() / 1000 + " us",
                "socket: " + settings.socket() + (settings.client()
                        ? ", connecting to the front-end listening there, again " + NetBackend.RECONNECT_DELAY.toSeconds()
                                + " s after it goes"
                        : ", listening, mode " + settings.socketMode())
                        + "; a front-end has " + settings.negotiationDeadline().toMillis() + " ms to send SET_OWNER",
                "offered: " + Features.describe(offered),
                "packet pool: budget " + ByteSize.format(settings.poolBudget())
                        + " for frames held while the guest's RX ring is empty; 'pool-budget SIZE' on "
                        + (settings.commands() == null ? "standard input" : settings.commands().toString())
                        + " changes it",
                "stats: " + settings.statsFormat() + " on standard output, "
                        + (settings.statsInterval().isZero() ? "" : "every " + settings.statsInterval().toSeconds()
                                + " s, ")
                        + "on kill -USR1 " + pid + ", and at exit");
    }

    /** "negotiated: VERSION_1 | RING_EVENT_IDX | ...". */
    static String negotiated(long features) {
        return "negotiated: " + Features.describe(features);
    }
}
