package dev.lowmem.devices.port.sw;

import dev.lowmem.devices.net.VirtioNetHeader;
import dev.lowmem.devices.port.DirectReceiver;
import dev.lowmem.devices.port.TxFrame;
import java.lang.foreign.MemorySegment;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One port of an {@link L2Switch} as every other port sees it: its inbox, the doorbell that
 * wakes its thread, its counters, and the ports waiting for room in its inbox. The port's own
 * thread consumes the inbox ({@link #popOldest}, {@link #discard}); any sender offers to it.
 */
public final class SwitchMember {
    /** A port waiting for room is woken once the inbox is down to this: a wake-up per half inbox, not per frame. */
    static final int LOW_WATER = Inbox.CAPACITY / 2;

    private final L2Switch owner;
    private final int index;
    private final String name;
    final Inbox inbox;
    final Doorbell doorbell;
    private final SwitchPortCounters counters = new SwitchPortCounters();
    /** Bit i: port i had a unicast frame refused for want of room here and waits to be woken. */
    private final AtomicLong roomWaiters = new AtomicLong();
    private volatile boolean closed;
    /** A driver's RX queue has looked at the inbox since the last {@link #discard()}: its guest is there to drain it. */
    private volatile boolean receiving;
    /**
     * What the port's receiver takes as it is, for {@link #accepts}: a guest's negotiated
     * features; everything for the uplink, whose TAP segments and checksums what it is handed.
     */
    private volatile long receiverFeatures = -1L;
    /** The guest's RX queue as senders may fill it; none for the uplink, whose own thread writes the TAP. */
    private volatile DirectReceiver receiver = DirectReceiver.NONE;

    SwitchMember(L2Switch owner, int index, String name, int maxBuffers) throws NativeIoException {
        this.owner = owner;
        this.index = index;
        this.name = name;
        this.inbox = new Inbox(maxBuffers);
        this.doorbell = new Doorbell();
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

    /** Frames in the inbox now; any thread. */
    public int inboxDepth() {
        return inbox.depth();
    }

    FileDescriptor fd() {
        return doorbell.fd();
    }

    boolean closed() {
        return closed;
    }

    /** Whether a guest receives here, so that a sender may wait for room rather than drop. */
    boolean receiving() {
        return receiving;
    }

    /** The guest's driver settled its features, before its queues run. */
    void receiverNegotiated(long features) {
        receiverFeatures = features;
    }

    /** Senders: whether this port's receiver may get a frame with {@code header} as it is. */
    boolean accepts(MemorySegment header) {
        return VirtioNetHeader.receivable(header, receiverFeatures);
    }

    /** The port's queue pair gave its RX queue, once. */
    void receiveDirectlyWith(DirectReceiver receiver) {
        this.receiver = receiver;
    }

    /**
     * Senders: writes {@code frame} straight into the guest's buffers when nothing older waits
     * for it here (so one sender's frames keep their order) and its RX queue can take it now.
     *
     * @return whether it did; counted as delivered
     */
    boolean receiveDirect(TxFrame frame) {
        if (!inbox.isEmpty() || !receiver.tryReceive(frame)) {
            return false;
        }
        counters.increment(SwitchCounter.FRAMES_OUT);
        counters.add(SwitchCounter.BYTES_OUT, frame.packetLength());
        counters.increment(SwitchCounter.FRAMES_DIRECT);
        return true;
    }

    /** Owner: a driver's RX queue runs and reads the inbox. */
    void receiverRuns() {
        if (!receiving) {
            receiving = true;
        }
    }

    /** Senders: a frame was queued; its owner wakes if it waits. */
    void arrived() {
        doorbell.ring();
    }

    /**
     * A sender's unicast frame found the inbox full: {@code waiter} is woken once it drains.
     *
     * @return whether there is room already (the inbox drained before the waiter was noted)
     */
    boolean awaitRoom(SwitchMember waiter) {
        roomWaiters.getAndAccumulate(1L << waiter.index, (bits, bit) -> bits | bit);
        return !inbox.isFull();
    }

    /** Owner: the oldest frame was delivered; counted, its buffers go home, waiters wake at the low-water mark. */
    void popOldest(long length) {
        inbox.pop();
        counters.increment(SwitchCounter.FRAMES_OUT);
        counters.add(SwitchCounter.BYTES_OUT, length);
        roomMade();
    }

    /** Owner: the oldest frame could not be delivered; dropped and counted as {@code reason}. */
    void dropOldest(SwitchCounter reason) {
        inbox.pop();
        counters.increment(reason);
        roomMade();
    }

    /** Wakes the ports waiting for room once the inbox is down to the low-water mark. */
    private void roomMade() {
        if (roomWaiters.get() != 0 && inbox.depth() <= LOW_WATER) {
            wakeWaiters();
        }
    }

    /**
     * Owner: drops every frame the inbox holds, counted as {@link SwitchCounter#DROP_RESET}: its
     * driver went (docs/ARCHITECTURE.md, "A reset forgets").
     *
     * @return the frames dropped
     */
    int discard() {
        receiving = false;
        int dropped = 0;
        while (inbox.peekLength() != 0) {
            inbox.pop();
            dropped++;
        }
        counters.add(SwitchCounter.DROP_RESET, dropped);
        if (roomWaiters.get() != 0) {
            wakeWaiters();
        }
        return dropped;
    }

    /** The port leaves: senders skip it from now, and what it held is dropped. On its owner's thread, or after it stopped. */
    void close() {
        closed = true;
        discard();
    }

    private void wakeWaiters() {
        long waiting = roomWaiters.getAndSet(0);
        while (waiting != 0) {
            int waiter = Long.numberOfTrailingZeros(waiting);
            waiting &= waiting - 1;
            owner.member(waiter).doorbell.ring();
        }
    }
}
