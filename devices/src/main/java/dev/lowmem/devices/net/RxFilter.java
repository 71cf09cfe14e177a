package dev.lowmem.devices.net;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Which frames the driver asked to receive through the control queue (virtio 1.2, 5.1.6.5.1
 * RX mode, 5.1.6.5.2 MAC table, 5.1.6.5.3 VLAN filter). Immutable: each command makes a new one
 * and publishes it whole, so the RX path reads one volatile field a frame and never a half-made
 * table.
 *
 * <p>The order of the checks is QEMU's receive filter: promiscuous takes everything; then the
 * VLAN table; then broadcast, multicast or unicast by the destination address.
 */
final class RxFilter {
    /** VIRTIO_NET_CTRL_RX commands, each the bit of its mode. */
    static final int PROMISC = 0;
    static final int ALLMULTI = 1;
    static final int ALLUNI = 2;
    static final int NOMULTI = 3;
    static final int NOUNI = 4;
    static final int NOBCAST = 5;
    /** Entries a MAC table holds (QEMU's MAC_TABLE_ENTRIES); a longer table passes all of its kind. */
    static final int MAC_TABLE_ENTRIES = 64;
    /** The frame bytes the filter reads: the destination, and a VLAN tag's TCI. */
    static final int HEAD_BYTES = 16;

    private static final int VLAN_IDS = 4096;
    private static final int TPID_8021Q = 0x8100;
    private static final long BROADCAST = 0xffff_ffff_ffffL;
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final int modes;
    private final long mac;
    /** Null: that kind passes whole (the driver gave more entries than the table holds). */
    private final long[] unicast;
    private final long[] multicast;
    /** A bit per VLAN ID the driver added; null when VLAN filtering was not negotiated. */
    private final long[] vlans;

    private RxFilter(int modes, long mac, long[] unicast, long[] multicast, long[] vlans) {
        this.modes = modes;
        this.mac = mac;
        this.unicast = unicast;
        this.multicast = multicast;
        this.vlans = vlans;
    }

    /** What a device starts with and goes back to at reset: promiscuous, as QEMU's, until the driver says otherwise. */
    static RxFilter initial(long mac, boolean vlanFiltering) {
        return new RxFilter(1 << PROMISC, mac, new long[0], new long[0], vlanFiltering ? new long[VLAN_IDS / 64] : null);
    }

    boolean takesEverything() {
        return has(PROMISC);
    }

    RxFilter withMode(int command, boolean on) {
        return new RxFilter(on ? modes | 1 << command : modes & ~(1 << command), mac, unicast, multicast, vlans);
    }

    RxFilter withMac(long address) {
        return new RxFilter(modes, address, unicast, multicast, vlans);
    }

    /** The two tables of VIRTIO_NET_CTRL_MAC_TABLE_SET; null for a table longer than {@link #MAC_TABLE_ENTRIES}. */
    RxFilter withMacTables(long[] unicastTable, long[] multicastTable) {
        return new RxFilter(modes, mac, unicastTable, multicastTable, vlans);
    }

    /** @return null when VLAN filtering was not negotiated */
    RxFilter withVlan(int id, boolean on) {
        if (vlans == null) {
            return null;
        }
        long[] next = vlans.clone();
        if (on) {
            next[id >>> 6] |= 1L << id;
        } else {
            next[id >>> 6] &= ~(1L << id);
        }
        return new RxFilter(modes, mac, unicast, multicast, next);
    }

    /**
     * Whether the driver wants a frame of {@code length} bytes whose first bytes are in
     * {@code head} ({@link #HEAD_BYTES} of them, or fewer for a shorter frame).
     */
    boolean accepts(MemorySegment head, long length) {
        if (has(PROMISC) || length < 6) {
            return true;
        }
        if (vlans != null && length >= HEAD_BYTES && (head.get(BE16, 12) & 0xffff) == TPID_8021Q) {
            int id = head.get(BE16, 14) & 0xfff;
            if ((vlans[id >>> 6] & 1L << id) == 0) {
                return false;
            }
        }
        long destination = address(head);
        if (destination == BROADCAST) {
            return !has(NOBCAST);
        }
        if ((head.get(ValueLayout.JAVA_BYTE, 0) & 1) != 0) {
            return !has(NOMULTI) && (has(ALLMULTI) || multicast == null || contains(multicast, destination));
        }
        return !has(NOUNI) && (has(ALLUNI) || destination == mac || unicast == null || contains(unicast, destination));
    }

    /** A MAC address as the 48 low bits of a long, first byte highest. */
    static long address(MemorySegment bytes) {
        long address = 0;
        for (int i = 0; i < 6; i++) {
            address = address << 8 | bytes.get(ValueLayout.JAVA_BYTE, i) & 0xff;
        }
        return address;
    }

    private boolean has(int mode) {
        return (modes & 1 << mode) != 0;
    }

    private static boolean contains(long[] table, long address) {
        for (long entry : table) {
            if (entry == address) {
                return true;
            }
        }
        return false;
    }
}
