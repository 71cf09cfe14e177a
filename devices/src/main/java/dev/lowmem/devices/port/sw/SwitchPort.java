package dev.lowmem.devices.port.sw;

import dev.lowmem.devices.port.DirectReceiver;
import dev.lowmem.devices.port.Port;
import dev.lowmem.devices.port.PortQueue;
import dev.lowmem.devices.port.RxBuffers;
import dev.lowmem.devices.port.TxFrame;
import dev.lowmem.devices.net.VirtioNetHeader;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;
import java.lang.foreign.MemorySegment;

/**
 * The port one virtio-net device has on an {@link L2Switch}, with one queue pair: what the guest
 * transmits goes into the switch ({@link Forwarder}); the guest receives what senders write
 * straight into its buffers ({@link #receiveDirectlyWith}) and, after that, what its inbox holds.
 *
 * <p>It offers the offloads a header carries unchanged ({@link VirtioNetHeader#PASS_THROUGH_OFFLOADS}):
 * a frame's header crosses with it and each receiver gets it in its own header size, so two
 * guests with 10- and 12-byte headers meet without conversion; a frame that asks a receiver for
 * an offload its guest did not negotiate is not given to it (counted, drop_offload).
 *
 * <p>Its fd is the port's {@link Doorbell}: rung when frames arrive, and when a port that refused
 * this one's unicast frame has drained, but only once the worker has armed it on its way to
 * sleep ({@link #prepareToSleep}): a busy worker costs its senders no syscall. An eventfd is
 * always writable, so TX waits for room on EPOLLIN too ({@link #roomEvent()}).
 */
public final class SwitchPort implements Port, PortQueue {
    private final SwitchMember member;
    private final Forwarder forwarder;
    private volatile int headerSize = VirtioNetHeader.SIZE;

    SwitchPort(SwitchMember member, Forwarder forwarder) {
        this.member = member;
        this.forwarder = forwarder;
    }

    @Override
    public String describe() {
        return "switch port " + member.index() + " (" + member.name() + ")";
    }

    @Override
    public long offloadFeatures() {
        return VirtioNetHeader.PASS_THROUGH_OFFLOADS;
    }

    @Override
    public int maxQueuePairs() {
        return 1;
    }

    @Override
    public void negotiated(long features, int headerSize) {
        this.headerSize = headerSize;
        member.receiverNegotiated(features);
    }

    @Override
    public PortQueue queue(int pair) {
        if (pair != 0) {
            throw new IndexOutOfBoundsException(describe() + " has one queue pair, not " + (pair + 1));
        }
        return this;
    }

    @Override
    public FileDescriptor fd() {
        return member.fd();
    }

    @Override
    public int roomEvent() {
        return LibC.EPOLLIN;
    }

    @Override
    public void receiveDirectlyWith(DirectReceiver receiver) {
        member.receiveDirectlyWith(receiver);
    }

    @Override
    public boolean transmit(TxFrame frame) {
        return forwarder.forward(frame);
    }

    /** The next frame's length with this guest's header; only a running RX queue asks, so the switch learns a guest receives here. */
    @Override
    public long nextFrameLength() {
        member.receiverRuns();
        long length = member.inbox.peekLength();
        return length == 0 ? 0 : headerSize + length;
    }

    /** Arms the doorbell, then looks once more (see {@link Doorbell}). */
    @Override
    public boolean prepareToSleep(boolean wantsFrames, boolean waitsForRoom) {
        member.doorbell.arm();
        return wantsFrames && member.inbox.peekLength() != 0 || waitsForRoom && forwarder.blockedHasRoom();
    }

    @Override
    public long receive(RxBuffers buffers) {
        long length = member.inbox.peekLength();
        if (length == 0) {
            return 0;
        }
        int header = headerSize;
        member.inbox.copyOldestTo(buffers, header);
        member.popOldest(length);
        return header + length;
    }

    /** The inbox is this port's backlog: RX keeps none of its own, so a queued frame is copied twice, not three times. */
    @Override
    public boolean waitsWithoutLoss() {
        return true;
    }

    @Override
    public int backlog() {
        return member.inboxDepth();
    }

    @Override
    public int discard() {
        return member.discard();
    }

    /** After the device's worker stopped: leaves the pool, drops what the inbox holds; senders skip the port from now. */
    @Override
    public void close() {
        member.close();
        forwarder.close();
    }
}
