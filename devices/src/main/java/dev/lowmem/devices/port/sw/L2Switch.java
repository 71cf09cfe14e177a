package dev.lowmem.devices.port.sw;

import dev.lowmem.devices.port.TapPort;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.io.IOException;
import dev.lowmem.vmm.core.pool.PacketPool;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;

/**
 * A learning Ethernet switch inside the back-end: each {@link SwitchPort} is the port of one
 * virtio-net device, and the frames one guest transmits reach the others through the switch
 * (docs/ARCHITECTURE.md, "The switch"). A frame to a unicast MAC the {@link MacTable} knows goes
 * to that port alone and waits for room there; broadcast, multicast and unknown unicast go to
 * every other port and never wait; nothing goes back to the port it came from.
 *
 * <p>Frames cross in buffers of the {@link PacketPool}, which the caller owns and closes after the
 * switch: copied once from the sender's guest into pool buffers on the sender's thread, once
 * from them into the receiver's guest on the receiver's.
 *
 * <p>Ports are added before the switch carries frames, with one queue per queue pair of their
 * device (one for the uplink), at most {@link #MAX_QUEUES} queues in all; they stay until the
 * switch closes.
 */
public final class L2Switch implements AutoCloseable {
    /** The room-waiter set of a queue is one 64-bit word. */
    public static final int MAX_QUEUES = 64;
    /** The largest packet a port takes: 64 KiB of IP and an Ethernet header with a VLAN tag. */
    static final int MAX_PACKET = 65535 + 18;

    private final MacTable table;
    private final PacketPool pool;
    private final int maxBuffers;
    private final Arena arena = Arena.ofShared();
    /** Copied on each add, so that senders read it without a lock. */
    private volatile SwitchMember[] members = new SwitchMember[0];
    /** The host's port, once added; null without one. */
    private Uplink uplink;
    /** Every port's queues, by lane, copied on each add as {@link #members} is. */
    private volatile SwitchQueue[] queues = new SwitchQueue[0];

    public L2Switch(MacTable table, PacketPool pool) {
        this.table = table;
        this.pool = pool;
        this.maxBuffers = (MAX_PACKET + pool.config().bufferSize() - 1) / pool.config().bufferSize();
    }

    /**
     * A new port, for one virtio-net device with {@code pairs} queue pairs.
     *
     * @param name what stats call it: the device's socket, say
     */
    public synchronized SwitchPort addPort(String name, int pairs) throws NativeIoException {
        SwitchMember member = join(name, pairs);
        Forwarder[] forwarders = new Forwarder[pairs];
        for (int pair = 0; pair < pairs; pair++) {
            forwarders[pair] = new Forwarder(this, member.queue(pair), pool, maxBuffers, arena);
        }
        return new SwitchPort(member, forwarders);
    }

    /**
     * The host's port: {@code tap}, which the uplink owns from here (also when this fails), served
     * by a thread of its own; close it before the switch.
     */
    public synchronized Uplink addUplink(TapPort tap) throws IOException {
        SwitchMember member;
        try {
            member = join(tap.describe(), 1);
        } catch (NativeIoException | RuntimeException e) {
            tap.close();
            throw e;
        }
        uplink = Uplink.start(tap, member.queue(0), new Forwarder(this, member.queue(0), pool, maxBuffers, arena));
        guestFeaturesChanged();
        return uplink;
    }

    /**
     * A guest's driver settled its features: the uplink's TAP hands over checksum and
     * segmentation offloads every guest negotiated (GUEST_CSUM, GUEST_TSO4, ...), so a host's
     * 64 KiB segment crosses to the guests as one frame, as it does to a guest on a TAP of its
     * own; one guest without them turns them off for all, for a frame the switch gives a guest
     * that cannot take it is dropped ({@code drop_offload}), and the kernel, not the switch,
     * segments. On the control plane's threads.
     */
    synchronized void guestFeaturesChanged() {
        if (uplink == null) {
            return;
        }
        long common = -1L;
        for (SwitchMember member : members) {
            if (member != uplink.member() && !member.closed()) {
                common &= member.receiverFeatures();
            }
        }
        uplink.offerOffloads(common);
    }

    private SwitchMember join(String name, int pairs) throws NativeIoException {
        SwitchQueue[] lanes = queues;
        if (lanes.length + pairs > MAX_QUEUES) {
            throw new IllegalStateException("a switch has at most " + MAX_QUEUES + " queues, " + lanes.length
                    + " taken, and a port of " + pairs + " asked for");
        }
        SwitchMember[] current = members;
        SwitchMember member = new SwitchMember(this, current.length, name, lanes.length, pairs, maxBuffers);
        SwitchMember[] next = Arrays.copyOf(current, current.length + 1);
        next[current.length] = member;
        SwitchQueue[] nextLanes = Arrays.copyOf(lanes, lanes.length + pairs);
        for (int pair = 0; pair < pairs; pair++) {
            nextLanes[lanes.length + pair] = member.queue(pair);
        }
        queues = nextLanes;
        members = next;
        return member;
    }

    public MacTable macTable() {
        return table;
    }

    /** Every port, in the order added: its name, counters and inbox depth, for stats. */
    public List<SwitchMember> members() {
        return List.of(members);
    }

    /** Every port, for a sender to flood: the array itself, which is replaced, never changed, on an add. */
    SwitchMember[] memberArray() {
        return members;
    }

    SwitchMember member(int index) {
        return members[index];
    }

    SwitchQueue queue(int lane) {
        return queues[lane];
    }

    /** After every port's device has closed: the doorbells go. */
    @Override
    public synchronized void close() {
        for (SwitchMember member : members) {
            member.closeDoorbells();
        }
        arena.close();
    }
}
