package dev.lowmem.devices.port.sw;

import dev.lowmem.devices.port.DirectReceiver;
import dev.lowmem.devices.port.PortQueue;
import dev.lowmem.devices.port.RxBuffers;
import dev.lowmem.devices.port.TxFrame;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;

/**
 * One queue pair's way through a {@link SwitchPort}: what the pair's guest transmits goes into the
 * switch ({@link Forwarder}); the guest receives what senders write straight into its buffers
 * ({@link #receiveDirectlyWith}) and, after that, what the queue's inbox holds.
 *
 * <p>Its fd is the queue's {@link Doorbell}: rung when frames arrive, and when a queue that
 * refused this one's unicast frame has drained, but only once the worker has armed it on its way
 * to sleep ({@link #prepareToSleep}): a busy worker costs its senders no syscall. An eventfd is
 * always writable, so TX waits for room on EPOLLIN too ({@link #roomEvent()}).
 */
final class SwitchPortQueue implements PortQueue {
    private final SwitchPort port;
    private final SwitchQueue queue;
    private final Forwarder forwarder;

    SwitchPortQueue(SwitchPort port, SwitchQueue queue, Forwarder forwarder) {
        this.port = port;
        this.queue = queue;
        this.forwarder = forwarder;
    }

    @Override
    public FileDescriptor fd() {
        return queue.fd();
    }

    @Override
    public int roomEvent() {
        return LibC.EPOLLIN;
    }

    @Override
    public void receiveDirectlyWith(DirectReceiver receiver) {
        queue.receiveDirectlyWith(receiver);
    }

    /** An announcement is flooded from this guest's port like any broadcast, and the switch learns the MAC here. */
    @Override
    public boolean carriesAnnouncements() {
        return true;
    }

    @Override
    public boolean transmit(TxFrame frame) {
        return forwarder.forward(frame);
    }

    /** The next frame's length with this guest's header; only a running RX queue asks, so the switch learns a guest receives here. */
    @Override
    public long nextFrameLength() {
        queue.receiverRuns();
        long length = queue.inbox.peekLength();
        return length == 0 ? 0 : port.headerSize() + length;
    }

    /** Arms the doorbell, then looks once more (see {@link Doorbell}). */
    @Override
    public boolean prepareToSleep(boolean wantsFrames, boolean waitsForRoom) {
        queue.doorbell.arm();
        return wantsFrames && queue.inbox.peekLength() != 0 || waitsForRoom && forwarder.blockedHasRoom();
    }

    @Override
    public long receive(RxBuffers buffers) {
        long length = queue.inbox.peekLength();
        if (length == 0) {
            return 0;
        }
        int header = port.headerSize();
        queue.inbox.copyOldestTo(buffers, header);
        queue.popOldest(length);
        return header + length;
    }

    /** The inbox is this queue's backlog: RX keeps none of its own, so a queued frame is copied twice, not three times. */
    @Override
    public boolean waitsWithoutLoss() {
        return true;
    }

    @Override
    public int backlog() {
        return queue.inbox.depth();
    }

    @Override
    public int discard() {
        return queue.discard();
    }
}
