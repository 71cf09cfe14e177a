package dev.lowmem.devices.net;

import dev.lowmem.virtio.queue.ChainError;
import dev.lowmem.virtio.queue.DescriptorChain;
import java.util.EnumSet;
import java.util.Set;

/**
 * Logs what a guest or a port got wrong on one queue, once per distinct kind (STYLE.md 13: count
 * everything, log only state changes and distinct errors); the counters carry the totals. Worker
 * thread only.
 */
final class QueueWarnings {
    private static final System.Logger LOG = System.getLogger(VirtioNet.class.getName());

    private final String queue;
    private final Set<ChainError> chainErrorsSeen = EnumSet.noneOf(ChainError.class);
    private final Set<NetCounter> dropsSeen = EnumSet.noneOf(NetCounter.class);

    /** @param queue "queue 1 (TX of pair 0)" */
    QueueWarnings(String queue) {
        this.queue = queue;
    }

    void malformedChain(DescriptorChain chain) {
        if (chainErrorsSeen.add(chain.error())) {
            LOG.log(System.Logger.Level.WARNING, queue + ": " + chain.describeError()
                    + "; dropped and counted, later ones only counted");
        }
    }

    void dropped(NetCounter reason, String detail) {
        if (dropsSeen.add(reason)) {
            warn(reason, detail);
        }
    }

    /**
     * As {@link #dropped(NetCounter, String)}, the detail formatted from {@code detailFormat} and
     * two numbers only when it is logged: a guest that repeats a bad frame costs a counter, not a
     * string per frame.
     */
    void dropped(NetCounter reason, String detailFormat, long first, long second) {
        if (dropsSeen.add(reason)) {
            warn(reason, String.format(detailFormat, first, second));
        }
    }

    private void warn(NetCounter reason, String detail) {
        LOG.log(System.Logger.Level.WARNING, queue + ": " + reason.description() + " (" + detail
                + "); dropped and counted as " + reason.key() + ", later ones only counted");
    }

}
