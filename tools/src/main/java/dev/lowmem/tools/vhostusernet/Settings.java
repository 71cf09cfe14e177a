package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.net.NetDeviceOptions;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What the command runs, checked: every value here is one the device, the port and the socket
 * accept.
 *
 * @param client connect to {@code socket} (QEMU listens, {@code server=on}) instead of listening on it
 * @param socketMode the listening socket's file mode; unused with {@code client}
 * @param negotiationDeadline how long a front-end has from connecting to SET_OWNER before it is closed
 * @param poolBudget the packet pool's budget in bytes at start
 * @param commands the named pipe to read commands from; null for standard input
 * @param statsInterval how often to print the counters; zero for only on SIGUSR1 and at exit
 */
record Settings(Path socket, boolean client, SocketMode socketMode, Duration negotiationDeadline, PortChoice port,
        NetDeviceOptions device, long poolBudget, Path commands, Duration statsInterval, StatsFormat statsFormat) {
}
