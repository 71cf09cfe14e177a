package dev.lowmem.devices.net;

import dev.lowmem.devices.port.PortTransmitter;
import dev.lowmem.devices.port.TxFrame;
import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.vmm.core.memory.ScatterList;
import dev.lowmem.vmm.core.nativeio.IovecArray;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A queue pair's announcements of its guest after a live migration (vhost-user's SEND_RARP): the
 * control plane asks ({@link #request}), the pair's worker sends the frame out of the port on its
 * next cycle ({@link #sendPending}), through the port's ordinary {@link PortTransmitter#transmit}, so
 * only the worker ever touches the port. A port with a host side ({@link PortTransmitter#carriesAnnouncements()}:
 * a TAP, a switch port) sends it; the others (loopback, sink, source) ignore it, counted as
 * {@code rarp_ignored}.
 *
 * <p>The frame is the one QEMU's own devices send (net/announce.c, announce_self_create): 60
 * bytes, to the broadcast address from the guest's MAC, ethertype RARP (0x8035), a RARP "reverse
 * request" (opcode 3) for Ethernet and IPv4 with the MAC as both sender and target hardware
 * address and both protocol addresses 0, padded with zeros to Ethernet's minimum.
 */
final class Announcement {
    /** The frame's length, as QEMU's: an Ethernet minimum frame without its FCS. */
    static final int FRAME_LENGTH = 60;
    static final int ETHER_TYPE_RARP = 0x8035;
    static final int OPERATION_REVERSE_REQUEST = 3;

    private final AtomicReference<byte[]> pending = new AtomicReference<>();
    private final QueuePairCounters counters;
    private final MemorySegment headerScratch;
    private final MemorySegment packet;
    private final IovecArray iovecs;
    private final ScatterList packetList = new ScatterList(1);
    private TxFrame frame;

    Announcement(QueuePairCounters counters, Arena arena) {
        this.counters = counters;
        this.headerScratch = arena.allocate(VirtioNetHeader.SIZE, Long.BYTES);
        this.packet = arena.allocate(FRAME_LENGTH, Long.BYTES);
        this.iovecs = new IovecArray(arena, 2);
        packetList.add(packet);
    }

    /** The RARP announcement of {@code mac}, as QEMU builds it. */
    static byte[] rarpFrame(byte[] mac) {
        if (mac.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 bytes, not " + mac.length);
        }
        byte[] frame = new byte[FRAME_LENGTH];
        java.util.Arrays.fill(frame, 0, 6, (byte) 0xFF);
        System.arraycopy(mac, 0, frame, 6, 6);
        putShort(frame, 12, ETHER_TYPE_RARP);
        putShort(frame, 14, 1);          // hardware type: Ethernet
        putShort(frame, 16, 0x0800);     // protocol type: IPv4
        frame[18] = 6;                   // hardware address length
        frame[19] = 4;                   // protocol address length
        putShort(frame, 20, OPERATION_REVERSE_REQUEST);
        System.arraycopy(mac, 0, frame, 22, 6);   // sender hardware address; sender IP 0
        System.arraycopy(mac, 0, frame, 32, 6);   // target hardware address; target IP 0
        return frame;
    }

    private static void putShort(byte[] frame, int at, int value) {
        frame[at] = (byte) (value >>> 8);
        frame[at + 1] = (byte) value;
    }

    /** The driver's features; while no queue of the pair runs. */
    void configure(long features) {
        frame = new TxFrame(headerScratch.asSlice(0, NetFeatures.headerSize(features)), iovecs);
    }

    /** Control plane: send {@code rarpFrame} on the next cycle; one asked for meanwhile replaces it. */
    void request(byte[] rarpFrame) {
        pending.set(rarpFrame);
    }

    /** Whether an announcement waits to be sent: one volatile read, on the worker's every cycle. */
    boolean hasPending() {
        return pending.get() != null;
    }

    /**
     * On the worker: sends the pending announcement out of {@code port}, or counts it ignored when
     * the port has no host side. A full port keeps it for a later cycle.
     */
    void sendPending(PortTransmitter port) {
        byte[] bytes = pending.get();
        if (bytes == null) {
            return;
        }
        if (!port.carriesAnnouncements()) {
            pending.compareAndSet(bytes, null);
            counters.increment(NetCounter.RARP_IGNORED);
            return;
        }
        MemorySegment.copy(bytes, 0, packet, ValueLayout.JAVA_BYTE, 0, FRAME_LENGTH);
        MemorySegment header = frame.header();
        header.fill((byte) 0);
        iovecs.clear();
        iovecs.add(header);
        iovecs.add(packet);
        frame.wrap(packetList, 0, FRAME_LENGTH);
        boolean taken;
        try {
            taken = port.transmit(frame);
        } catch (IOException e) {
            pending.compareAndSet(bytes, null);
            counters.increment(NetCounter.TX_DROP_PORT_ERROR);
            System.getLogger(Announcement.class.getName()).log(System.Logger.Level.WARNING,
                    "the RARP announcement was not sent: " + e.getMessage());
            return;
        }
        if (taken) {
            pending.compareAndSet(bytes, null);
            counters.increment(NetCounter.RARP_SENT);
        }
    }
}
