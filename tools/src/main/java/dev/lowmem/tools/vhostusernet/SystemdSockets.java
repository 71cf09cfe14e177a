package dev.lowmem.tools.vhostusernet;

import java.util.Map;

/**
 * systemd's socket activation (sd_listen_fds(3)): a unit started by a .socket unit finds the
 * sockets open from fd 3 on, LISTEN_FDS saying how many and LISTEN_PID which process they are
 * for (a child that inherits the environment must not take them).
 */
final class SystemdSockets {
    /** SD_LISTEN_FDS_START. */
    static final int FIRST_FD = 3;

    private SystemdSockets() {
    }

    /** How many sockets systemd passed the process {@code pid}, given its environment; 0 when none. */
    static int fromEnvironment(Map<String, String> environment, long pid) {
        String forPid = environment.get("LISTEN_PID");
        String count = environment.get("LISTEN_FDS");
        if (forPid == null || count == null) {
            return 0;
        }
        try {
            if (Long.parseLong(forPid.strip()) != pid) {
                return 0;
            }
            int fds = Integer.parseInt(count.strip());
            return Math.max(fds, 0);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
