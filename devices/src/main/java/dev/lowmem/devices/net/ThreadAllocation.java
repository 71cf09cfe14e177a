package dev.lowmem.devices.net;

import java.lang.management.ManagementFactory;

/**
 * The heap bytes a thread has allocated since it started, as HotSpot counts them per thread
 * (com.sun.management.ThreadMXBean): how the steady-state datapath shows that it allocates
 * nothing, read from any thread while the worker runs.
 */
final class ThreadAllocation {
    private static final java.lang.management.ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private ThreadAllocation() {
    }

    /** -1 where the JVM does not count, or the thread has ended. */
    static long bytes(Thread thread) {
        if (THREADS instanceof com.sun.management.ThreadMXBean hotspot && hotspot.isThreadAllocatedMemoryEnabled()) {
            return hotspot.getThreadAllocatedBytes(thread.threadId());
        }
        return -1;
    }
}
