package dev.lowmem.vmm.core.tap;

import java.util.Set;

/**
 * The offloads a TAP's reader can say it handles ({@code TUNSETOFFLOAD}, the {@code TUN_F_*}
 * flags of {@code <linux/if_tun.h>}). With one set, the kernel hands the reader frames that rely
 * on it, described in the vnet header: a partial checksum, a TCP or UDP packet larger than the
 * MTU. Without it, the kernel finishes the checksum or segments the packet first. Frames written
 * to a TAP may use any offload whatever is set here.
 */
public enum TunOffload {
    /** TUN_F_CSUM: frames may come with a partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM). Every other offload needs it. */
    CSUM(0x01),
    /** TUN_F_TSO4: TCP over IPv4 may come unsegmented. */
    TSO4(0x02),
    /** TUN_F_TSO6: TCP over IPv6 may come unsegmented. */
    TSO6(0x04),
    /** TUN_F_TSO_ECN: unsegmented TCP may carry ECN's CWR flag. Needs TSO4 or TSO6. */
    TSO_ECN(0x08),
    /** TUN_F_UFO: UDP may come unfragmented. */
    UFO(0x10);

    private final int flag;

    TunOffload(int flag) {
        this.flag = flag;
    }

    /** The TUN_F_ bit. */
    public int flag() {
        return flag;
    }

    /** The TUNSETOFFLOAD argument for {@code offloads}. */
    static int maskOf(Set<TunOffload> offloads) {
        int mask = 0;
        for (TunOffload offload : offloads) {
            mask |= offload.flag;
        }
        return mask;
    }
}
