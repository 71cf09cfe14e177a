package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.net.MacAddress;
import dev.lowmem.devices.net.NetDeviceOptions;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What the command runs, checked: every value here is one the device, the port and the socket
 * accept.
 *
 * @param sockets one per device: one without a switch, one or more with it; "fd N" for an inherited socket
 * @param listenFd the inherited listening socket's descriptor ({@code --fd} or systemd's), or -1 for none
 * @param switching whether the devices are joined by a switch ({@code --switch}), with the port as its uplink
 * @param client connect to each socket (QEMU listens, {@code server=on}) instead of listening on it
 * @param socketMode the listening sockets' file mode; unused with {@code client}
 * @param negotiationDeadline how long a front-end has from connecting to SET_OWNER before it is closed
 * @param port the device's port; with a switch, its uplink to the host (a TAP), or null for none
 * @param device the device's options; with a switch, the first device's (see {@link #device(int)})
 * @param poolBudget the packet pool's budget in bytes at start
 * @param commands the named pipe to read commands from; null for standard input
 * @param statsInterval how often to print the counters; zero for only on SIGUSR1 and at exit
 * @param macAgeing how long the switch remembers a MAC that sends nothing; unused without a switch
 * @param capture where every device's frames are captured ({@code --pcap}); null for nowhere
 * @param metrics where the metrics are served over HTTP ({@code --metrics}); null for nowhere
 * @param ctl the control socket to listen on ({@code --ctl}); null for none
 */
record Settings(List<Path> sockets, int listenFd, boolean switching, boolean client, SocketMode socketMode, Duration negotiationDeadline,
        PortChoice port, NetDeviceOptions device, long poolBudget, Path commands, Duration statsInterval,
        StatsFormat statsFormat, Duration macAgeing, Capture capture, InetSocketAddress metrics, Path ctl) {

    /** A pcap file and the most it may hold. */
    record Capture(Path file, long maxBytes) {
    }

    Settings {
        sockets = List.copyOf(sockets);
    }

    /**
     * Device {@code index}'s options: the guests on a switch must have distinct MACs, so device i
     * has the given MAC with i added to its last byte (modulo 256), the rest as given.
     */
    NetDeviceOptions device(int index) {
        long mac = device.mac().value();
        long distinct = mac & ~0xFFL | (mac + index) & 0xFFL;
        return new NetDeviceOptions(new MacAddress(distinct), device.mtu(), device.queuePairs(), device.pollWindow(),
                device.maxPollWindow());
    }
}
