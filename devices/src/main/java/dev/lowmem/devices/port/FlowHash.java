package dev.lowmem.devices.port;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The hash that keeps a connection's frames on one queue of a port with several: of the IP
 * addresses and, for TCP and UDP, the ports (a VLAN tag skipped); of the MAC addresses for
 * anything else. A multi-queue TAP steers by a flow hash too: the guest's driver then sees each
 * connection in order on one RX queue while connections spread over all of them.
 *
 * <p>Two users: the switch picks a receiving guest's queue by it, and a multi-queue TAP port
 * writes each of a guest's frames through the TAP queue it picks, which is where the kernel then
 * sends that connection's replies ({@link TapQueue}).
 */
public final class FlowHash {
    /** The bytes of a frame the hash may read: an Ethernet header with a VLAN tag, an IPv4 header with options, the ports. */
    public static final int HEAD = 18 + 60 + 4;

    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final int VLAN = 0x8100;
    private static final int IPV4 = 0x0800;
    private static final int IPV6 = 0x86DD;
    private static final int TCP = 6;
    private static final int UDP = 17;
    /** Knuth's multiplicative constant: spreads close inputs (ports one apart) across the hash. */
    private static final int MIX = 0x9E3779B9;

    private FlowHash() {
    }

    /** The hash of the frame whose first {@code length} bytes (at most {@link #HEAD}, 14 at least) are in {@code head}. */
    public static int of(MemorySegment head, int length) {
        int type = Short.toUnsignedInt(head.get(BE16, 12));
        int ip = 14;
        if (type == VLAN && length >= 18) {
            type = Short.toUnsignedInt(head.get(BE16, 16));
            ip = 18;
        }
        if (type == IPV4 && length >= ip + 20) {
            int headerLength = (head.get(ValueLayout.JAVA_BYTE, ip) & 0xF) * 4;
            int hash = mix(mix(0, head.get(BE32, ip + 12)), head.get(BE32, ip + 16));
            return withPorts(hash, head, length, head.get(ValueLayout.JAVA_BYTE, ip + 9), ip + headerLength);
        }
        if (type == IPV6 && length >= ip + 40) {
            int hash = 0;
            for (int word = 8; word < 40; word += 4) {
                hash = mix(hash, head.get(BE32, ip + word));
            }
            return withPorts(hash, head, length, head.get(ValueLayout.JAVA_BYTE, ip + 6), ip + 40);
        }
        return finish(mix(mix(mix(0, head.get(BE32, 0)), head.get(BE32, 4)), head.get(BE32, 8)));
    }

    private static int withPorts(int hash, MemorySegment head, int length, byte protocol, int ports) {
        if ((protocol == TCP || protocol == UDP) && length >= ports + 4) {
            return finish(mix(hash, head.get(BE32, ports)));
        }
        return finish(hash);
    }

    private static int mix(int hash, int word) {
        return Integer.rotateLeft(hash ^ word * MIX, 13) * 5 + 0xE6546B64;
    }

    /** The high bits vary most after the multiplications: fold them down, for the caller takes the hash modulo a small count. */
    private static int finish(int hash) {
        return hash ^ hash >>> 16;
    }
}
