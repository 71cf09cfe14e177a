package dev.lowmem.devices.port.sw;

import dev.lowmem.devices.port.FlowHash;
import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.lang.foreign.MemorySegment;

/**
 * One port of an {@link L2Switch} as every other port sees it: what the MAC table points at, with
 * its counters, what its receiver takes, and its queues ({@link SwitchQueue}: one per queue pair
 * of its guest, one for the uplink). A frame for the port goes to one of the queues whose driver
 * receives, chosen by its flow ({@link FlowHash}), so the frames of one connection keep to one
 * queue and their order.
 */
public final class SwitchMember {
    private final L2Switch owner;
    private final int index;
    private final String name;
    private final SwitchPortCounters counters = new SwitchPortCounters();
    private final SwitchQueue[] queues;
    private volatile boolean closed;
    /**
     * What the port's receiver takes as it is, for {@link #accepts}: a guest's negotiated
     * features; everything for the uplink, whose TAP segments and checksums what it is handed.
     */
    private volatile long receiverFeatures = -1L;

    /** With {@code pairs} queues, the switch's queues {@code firstLane} on. */
    SwitchMember(L2Switch owner, int index, String name, int firstLane, int pairs, int maxBuffers)
            throws NativeIoException {
        this.owner = owner;
        this.index = index;
        this.name = name;
        this.queues = new SwitchQueue[pairs];
        try {
            for (int pair = 0; pair < pairs; pair++) {
                queues[pair] = new SwitchQueue(owner, this, firstLane + pair, maxBuffers);
            }
        } catch (NativeIoException e) {
            closeDoorbells();
            throw e;
        }
    }

    public int index() {
        return index;
    }

    /** "a.sock", "uplink tap0": for stats. */
    public String name() {
        return name;
    }

    public SwitchPortCounters counters() {
        return counters;
    }

    /** Frames in the port's inboxes now; any thread. */
    public int inboxDepth() {
        int depth = 0;
        for (SwitchQueue queue : queues) {
            depth += queue.inbox.depth();
        }
        return depth;
    }

    int queueCount() {
        return queues.length;
    }

    SwitchQueue queue(int pair) {
        return queues[pair];
    }

    /**
     * Senders: the queue a frame of flow {@code flowHash} goes to: of the queues whose driver
     * receives, the flow's; the first queue when none does (where the frame waits, or is dropped
     * as having no receiver).
     */
    SwitchQueue queueFor(int flowHash) {
        if (queues.length == 1) {
            return queues[0];
        }
        SwitchQueue chosen = queues[Math.floorMod(flowHash, queues.length)];
        if (chosen.receiving()) {
            return chosen;
        }
        for (SwitchQueue queue : queues) {
            if (queue.receiving()) {
                return queue;
            }
        }
        return queues[0];
    }

    boolean closed() {
        return closed;
    }

    /** The guest's driver settled its features, before its queues run; the uplink's offloads follow. */
    void receiverNegotiated(long features) {
        receiverFeatures = features;
        owner.guestFeaturesChanged();
    }

    /** What {@link #accepts} lets through: a guest's negotiated features, or all bits when none yet. */
    long receiverFeatures() {
        return receiverFeatures;
    }

    /** Senders: whether this port's receiver may get a frame with {@code header} as it is. */
    boolean accepts(MemorySegment header) {
        return VirtioNetHeader.receivable(header, receiverFeatures);
    }

    /** With the switch, after every port's device has closed. */
    void closeDoorbells() {
        for (SwitchQueue queue : queues) {
            if (queue != null) {
                queue.doorbell.close();
            }
        }
    }

    /** The port leaves: senders skip it from now, and what it held is dropped. On its owners' threads, or after they stopped. */
    void close() {
        closed = true;
        for (SwitchQueue queue : queues) {
            queue.discard();
        }
    }
}
