package dev.lowmem.tools.vhostusernet;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;

/**
 * The JVM's garbage collections so far, over all its collectors: with the workers' allocation, what
 * shows that a run at full rate did not make the collector work.
 */
record GcStats(long collections, long millis) {
    static final GcStats NONE = new GcStats(0, 0);

    static GcStats now() {
        long collections = 0;
        long millis = 0;
        for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
            collections += Math.max(0, collector.getCollectionCount());
            millis += Math.max(0, collector.getCollectionTime());
        }
        return new GcStats(collections, millis);
    }
}
