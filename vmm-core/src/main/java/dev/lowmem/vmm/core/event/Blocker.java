package dev.lowmem.vmm.core.event;

import java.io.IOException;

/**
 * How a worker goes to sleep once polling stops paying: typically it re-enables guest
 * notifications, checks its rings once more (a kick may have been suppressed in between), and
 * only then waits in {@link Epoll#wait} on its kick and port fds. Returning means "look for work".
 */
@FunctionalInterface
public interface Blocker {
    void block() throws IOException;
}
