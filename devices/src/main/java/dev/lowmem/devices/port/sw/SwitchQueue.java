package dev.lowmem.devices.port.sw;

import dev.lowmem.devices.port.DirectReceiver;
import dev.lowmem.devices.port.TxFrame;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One queue pair of a switch port as every other port sees it (the uplink has one): its inbox,
 * the doorbell that wakes the thread serving it, the guest's RX queue that senders may fill
 * directly, and the sending queues waiting for room in its inbox. The thread serving it consumes
 * the inbox ({@link #popOldest}, {@link #discard}); any sender offers to it.
 */
final class SwitchQueue {
    /** A queue waiting for room is woken once the inbox is down to this: a wake-up per half inbox, not per frame. */
    static final int LOW_WATER = Inbox.CAPACITY / 2;

    private final L2Switch owner;
    private final SwitchMember member;
    /** This queue's bit in a room-waiter set: its place among all the switch's queues. */
    private final int lane;
    final Inbox inbox;
    final Doorbell doorbell;
    /** Bit i: the switch's queue i had a unicast frame refused for want of room here and waits to be woken. */
    private final AtomicLong roomWaiters = new AtomicLong();
    /** A driver's RX queue has looked at the inbox since the last {@link #discard()}: its guest is there to drain it. */
    private volatile boolean receiving;
    /** The guest's RX queue as senders may fill it; none for the uplink, whose own thread writes the TAP. */
    private volatile DirectReceiver receiver = DirectReceiver.NONE;

    SwitchQueue(L2Switch owner, SwitchMember member, int lane, int maxBuffers) throws NativeIoException {
        this.owner = owner;
        this.member = member;
        this.lane = lane;
        this.inbox = new Inbox(maxBuffers);
        this.doorbell = new Doorbell();
    }

    SwitchMember member() {
        return member;
    }

    int lane() {
        return lane;
    }

    FileDescriptor fd() {
        return doorbell.fd();
    }

    /** Whether a guest receives here, so that a sender may wait for room rather than drop. */
    boolean receiving() {
        return receiving;
    }

    /** Owner: a driver's RX queue runs and reads the inbox. */
    void receiverRuns() {
        if (!receiving) {
            receiving = true;
        }
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
        member.counters().increment(SwitchCounter.FRAMES_OUT);
        member.counters().add(SwitchCounter.BYTES_OUT, frame.packetLength());
        member.counters().increment(SwitchCounter.FRAMES_DIRECT);
        return true;
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
    boolean awaitRoom(SwitchQueue waiter) {
        roomWaiters.getAndAccumulate(1L << waiter.lane, (bits, bit) -> bits | bit);
        return !inbox.isFull();
    }

    /** Owner: the oldest frame was delivered; counted, its buffers go home, waiters wake at the low-water mark. */
    void popOldest(long length) {
        inbox.pop();
        member.counters().increment(SwitchCounter.FRAMES_OUT);
        member.counters().add(SwitchCounter.BYTES_OUT, length);
        roomMade();
    }

    /** Owner: the oldest frame could not be delivered; dropped and counted as {@code reason}. */
    void dropOldest(SwitchCounter reason) {
        inbox.pop();
        member.counters().increment(reason);
        roomMade();
    }

    /** Wakes the queues waiting for room once the inbox is down to the low-water mark. */
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
        member.counters().add(SwitchCounter.DROP_RESET, dropped);
        if (roomWaiters.get() != 0) {
            wakeWaiters();
        }
        return dropped;
    }

    private void wakeWaiters() {
        long waiting = roomWaiters.getAndSet(0);
        while (waiting != 0) {
            int waiter = Long.numberOfTrailingZeros(waiting);
            waiting &= waiting - 1;
            owner.queue(waiter).doorbell.ring();
        }
    }
}
