package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.net.NetDeviceOptions;
import dev.lowmem.virtio.Features;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The lines the command logs when it starts, and the one it logs when a front-end negotiates. */
final class Banner {
    private Banner() {
    }

    /**
     * @param ports each device's port's own description ("sink", "tap vnet0", "switch port 0 (a.sock)"),
     *        in the order of the sockets
     * @param offered the devices' features
     * @param pid this process, for the SIGUSR1 hint
     */
    static List<String> lines(Settings settings, List<String> ports, long offered, long pid) {
        List<String> lines = new ArrayList<>();
        lines.add(Version.line());
        for (int i = 0; i < ports.size(); i++) {
            NetDeviceOptions device = settings.device(i);
            lines.add("port: " + ports.get(i) + ", " + device.queuePairs()
                    + (device.queuePairs() == 1 ? " queue pair" : " queue pairs") + ", MTU " + device.mtu() + ", MAC "
                    + device.mac() + ", poll window " + pollWindow(device));
            lines.add("socket: " + settings.sockets().get(i) + (settings.client()
                    ? ", connecting to the front-end listening there, again " + NetBackend.RECONNECT_DELAY.toSeconds()
                            + " s after it goes"
                    : settings.listenFd() >= 0 ? ", inherited, listening"
                    : ", listening, mode " + settings.socketMode())
                    + "; a front-end has " + settings.negotiationDeadline().toMillis() + " ms to send SET_OWNER");
        }
        if (settings.switching()) {
            lines.add("switch: " + ports.size() + " guests" + (settings.port() instanceof PortChoice.Tap(String name)
                    ? ", uplink tap " + name : ", no uplink") + "; a MAC is forgotten after "
                    + settings.macAgeing().toSeconds() + " s of silence");
        }
        lines.add("offered: " + Features.describe(offered));
        lines.add("packet pool: budget " + ByteSize.format(settings.poolBudget())
                + (settings.switching() ? " for the frames crossing the switch"
                        : " for frames held while the guest's RX ring is empty")
                + "; 'pool-budget SIZE' on "
                + (settings.commands() == null ? "standard input" : settings.commands().toString()) + " changes it");
        lines.add("stats: " + settings.statsFormat() + " on standard output, "
                + (settings.statsInterval().isZero() ? "" : "every " + seconds(settings.statsInterval()) + " s, ")
                + "on kill -USR1 " + pid + ", and at exit");
        return lines;
    }

    /** "negotiated: VERSION_1 | RING_EVENT_IDX | ...". */
    static String negotiated(long features) {
        return "negotiated: " + Features.describe(features);
    }

    /** 1, 0.1: the interval as --stats-interval took it. */
    private static String seconds(Duration interval) {
        return BigDecimal.valueOf(interval.toMillis(), 3).stripTrailingZeros().toPlainString();
    }

    /** "50 us" for a fixed window, "50 to 500 us" for one that adapts. */
    private static String pollWindow(NetDeviceOptions device) {
        long least = device.pollWindow().toNanos() / 1000;
        long most = device.maxPollWindow().toNanos() / 1000;
        return (least == most ? least : least + " to " + most) + " us";
    }
}
