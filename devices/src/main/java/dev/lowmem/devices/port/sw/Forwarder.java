package dev.lowmem.devices.port.sw;

import dev.lowmem.devices.port.FlowHash;
import dev.lowmem.devices.port.TxFrame;
import dev.lowmem.vmm.core.pool.PacketBuffer;
import dev.lowmem.vmm.core.pool.PacketPool;
import dev.lowmem.vmm.core.pool.PoolUser;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One switch queue's sending side, on the thread that sends (its queue pair's worker, or the
 * uplink's thread): reads a frame's addresses, learns its source, and for each port it goes to
 * picks that port's queue for the frame's flow, then writes it straight into that queue's guest
 * when it can ({@link SwitchQueue#receiveDirect}), else copies it into pool buffers and onto the
 * queue's inbox. The pool user is this queue's
 * own, so only this thread takes from it; receivers release the buffers onto its return stack,
 * which a take drains when the cache runs dry. It joins the pool when the port is made, so the
 * pool's refiller keeps a reserve for every port from the start rather than from its first frame,
 * when a burst would find the shared list short (and its frames dropped as {@code drop_no_buffer}).
 */
final class Forwarder implements AutoCloseable {
    private static final int ETHERNET_HEADER = 14;

    private final L2Switch fabric;
    private final SwitchQueue self;
    private final SwitchMember port;
    private final int bufferSize;
    /** The frame's first bytes: its addresses, and what its flow hash reads. */
    private final MemorySegment head;
    private final PacketBuffer[] copy;
    private final PoolUser user;
    /** The queue that refused this queue's last unicast frame, for want of room or of buffers; null when none did. */
    private SwitchQueue blockedOn;
    /** Why {@link #blockedOn} refused: no buffer in the pool, rather than a full inbox. */
    private boolean blockedOnBuffers;
    /** Set by {@link #deliver} when it refused a frame because the pool had no buffer for it. */
    private boolean noBuffer;

    Forwarder(L2Switch fabric, SwitchQueue self, PacketPool pool, int maxBuffers, Arena arena) {
        this.fabric = fabric;
        this.self = self;
        this.port = self.member();
        this.bufferSize = pool.config().bufferSize();
        // Made here, on the thread that adds the port; its owner becomes the sending thread at its first take.
        this.user = pool.join("switch " + port.name() + " queue " + self.lane());
        this.head = arena.allocate(FlowHash.HEAD);
        this.copy = new PacketBuffer[maxBuffers];
    }

    /**
     * Sends {@code frame}'s packet where its destination is: the port that MAC was learned on,
     * else every other port. Drops are counted, never thrown.
     *
     * @return false only when a unicast frame's port has no room: the caller keeps the frame and
     *         tries again when this port's doorbell rings
     */
    boolean forward(TxFrame frame) {
        long length = frame.packetLength();
        if (length < ETHERNET_HEADER) {
            port.counters().increment(SwitchCounter.DROP_SHORT_FRAME);
            return true;
        }
        int headLength = (int) Math.min(length, FlowHash.HEAD);
        frame.copyPacketTo(0, head, 0, headLength);
        long destination = MacTable.macAt(head, 0);
        fabric.macTable().learn(MacTable.macAt(head, 6), port.index());
        int found = MacTable.isGroup(destination) ? MacTable.UNKNOWN : fabric.macTable().lookup(destination);
        SwitchMember target = found == MacTable.UNKNOWN ? null : fabric.member(found);
        if (target == port) {
            port.counters().increment(SwitchCounter.DROP_SAME_PORT);
            return true;
        }
        int flow = FlowHash.of(head, headLength);
        if (target == null || target.closed()) {
            flood(frame, flow);
        } else if (!unicast(target.queueFor(flow), frame)) {
            return false;
        }
        port.counters().increment(SwitchCounter.FRAMES_IN);
        port.counters().add(SwitchCounter.BYTES_IN, length);
        return true;
    }

    /**
     * Whether the port that refused this port's last unicast frame has room now: checked after
     * the doorbell is armed, for the ring the full port gave when it drained may have come
     * before.
     */
    boolean blockedHasRoom() {
        SwitchQueue target = blockedOn;
        if (target == null) {
            return false;
        }
        // Asks again to be woken, before the look: a wake that came while this worker still
        // polled used up its registration, and the arming read that wake's signal. Waiting for
        // buffers, the low-water mark that woke it may not be the empty inbox it waits for.
        target.awaitRoom(self);
        // Waiting for buffers, an inbox that emptied has given back all it will: try (and drop) once more.
        return blockedOnBuffers ? target.inbox.isEmpty() : !target.inbox.isFull();
    }

    /**
     * A full inbox makes the sender wait while a guest drains it; with none there (its driver
     * went), waiting would stall this port's whole TX ring until the MAC ages out, so the frame
     * is dropped instead, as a bridge drops for a port that is down. A pool with no buffer for
     * the frame makes it wait too while the target's inbox holds frames, whose delivery brings
     * buffers home and wakes this sender as room does; an empty inbox brings none, and the frame
     * is dropped ({@code drop_no_buffer}).
     */
    private boolean unicast(SwitchQueue target, TxFrame frame) {
        if (deliver(target, frame)) {
            blockedOn = null;
            return true;
        }
        if (!target.receiving()) {
            target.member().counters().increment(SwitchCounter.DROP_NO_RECEIVER);
            blockedOn = null;
            return true;
        }
        blockedOn = target;
        if (target.awaitRoom(self) && deliver(target, frame)) {
            blockedOn = null;
            return true;
        }
        blockedOnBuffers = noBuffer;
        if (noBuffer && target.inbox.isEmpty()) {
            target.member().counters().increment(SwitchCounter.DROP_NO_BUFFER);
            blockedOn = null;
            return true;
        }
        return false;
    }

    /** To one queue of every other port; never waits: a queue whose inbox is full, or with no buffer, misses its copy (counted). */
    private void flood(TxFrame frame, int flow) {
        port.counters().increment(SwitchCounter.FLOODED);
        for (SwitchMember target : fabric.memberArray()) {
            if (target != port && !target.closed() && !deliver(target.queueFor(flow), frame)) {
                target.counters().increment(noBuffer ? SwitchCounter.DROP_NO_BUFFER : SwitchCounter.DROP_FLOOD_FULL);
            }
        }
    }

    /**
     * Gives the frame to {@code target}'s guest now, or copies the packet into pool buffers and
     * queues it for {@code target}, with its header.
     *
     * @return false when the target's inbox is full or the pool had no buffer for the frame
     *         ({@link #noBuffer} says which); a frame whose offloads the target's guest did not
     *         negotiate is dropped and counted on the target, and true
     */
    private boolean deliver(SwitchQueue target, TxFrame frame) {
        noBuffer = false;
        if (target.inbox.isFull()) {
            return false;
        }
        if (!target.member().accepts(frame.header())) {
            target.member().counters().increment(SwitchCounter.DROP_OFFLOAD);
            return true;
        }
        if (target.receiveDirect(frame)) {
            return true;
        }
        long length = frame.packetLength();
        int count = (int) ((length + bufferSize - 1) / bufferSize);
        if (!take(count)) {
            noBuffer = true;
            return false;
        }
        for (int i = 0; i < count; i++) {
            long offset = (long) i * bufferSize;
            frame.copyPacketTo(offset, copy[i].segment(), 0, Math.min(bufferSize, length - offset));
        }
        if (!target.inbox.offer(copy, count, length, frame.header())) {
            release(count);
            return false;
        }
        target.arrived();
        return true;
    }

    /** Takes {@code count} buffers into {@link #copy}; all or none. */
    private boolean take(int count) {
        for (int i = 0; i < count; i++) {
            copy[i] = user.take();
            if (copy[i] == null) {
                release(i);
                return false;
            }
        }
        return true;
    }

    private void release(int count) {
        for (int i = 0; i < count; i++) {
            copy[i].release();
            copy[i] = null;
        }
    }

    /** Leaves the pool; on the sending thread, or once it has stopped. Buffers still queued come home as they are released. */
    @Override
    public void close() {
        user.close();
    }
}
