package dev.lowmem.devices.port.sw;

import dev.lowmem.devices.port.Port;
import dev.lowmem.devices.port.PortQueue;
import dev.lowmem.devices.wire.VirtioNetHeader;

/**
 * The port one virtio-net device has on an {@link L2Switch}, with a {@link SwitchPortQueue} for
 * each of its queue pairs: what the guest transmits on any pair goes into the switch, and a
 * frame for the guest reaches the pair its flow hashes to ({@link SwitchMember#queueFor}).
 *
 * <p>It offers the offloads a header carries unchanged ({@link VirtioNetHeader#PASS_THROUGH_OFFLOADS}):
 * a frame's header crosses with it and each receiver gets it in its own header size, so two
 * guests with 10- and 12-byte headers meet without conversion; a frame that asks a receiver for
 * an offload its guest did not negotiate is not given to it (counted, drop_offload).
 */
public final class SwitchPort implements Port {
    private final SwitchMember member;
    private final SwitchPortQueue[] queues;
    private final Forwarder[] forwarders;
    private volatile int headerSize = VirtioNetHeader.SIZE;

    SwitchPort(SwitchMember member, Forwarder[] forwarders) {
        this.member = member;
        this.forwarders = forwarders;
        this.queues = new SwitchPortQueue[forwarders.length];
        for (int pair = 0; pair < queues.length; pair++) {
            queues[pair] = new SwitchPortQueue(this, member.queue(pair), forwarders[pair]);
        }
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
        return queues.length;
    }

    @Override
    public void negotiated(long features, int headerSize) {
        this.headerSize = headerSize;
        member.receiverNegotiated(features);
    }

    /** The guest's header size, which every frame it receives starts with. */
    int headerSize() {
        return headerSize;
    }

    @Override
    public PortQueue queue(int pair) {
        return queues[pair];
    }

    /** After the device's workers stopped: leaves the pool, drops what the inboxes hold; senders skip the port from now. */
    @Override
    public void close() {
        member.close();
        for (Forwarder forwarder : forwarders) {
            forwarder.close();
        }
    }
}
