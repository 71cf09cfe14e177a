package dev.lowmem.devices.port;

import java.io.IOException;

/**
 * The host side of a virtio-net device: where the guest's transmitted frames go and where the
 * frames it receives come from (a TAP device, a loopback, a benchmark sink or source). A port
 * has one {@link PortQueue} per queue pair, each used by that pair's worker alone.
 *
 * <p>Frames cross a port with their {@code virtio_net_hdr} in front, as the guest wrote it or
 * will read it, so offloads (checksum, segmentation) pass through untouched.
 */
public interface Port extends AutoCloseable {

    /** "tap vnet0", "loopback": for logs and the command's banner. */
    String describe();

    /**
     * The virtio-net offload bits the port can honour: the HOST_* ones for frames it takes from
     * the guest, the GUEST_* ones for frames it hands to the guest (CSUM, GUEST_CSUM, HOST_TSO4,
     * GUEST_TSO4, ... as {@link dev.lowmem.virtio.Feature} masks). The device offers no more.
     */
    long offloadFeatures();

    /** The most queue pairs the port can serve. */
    int maxQueuePairs();

    /**
     * The driver's features are settled, before any queue runs: a TAP sets its vnet header size
     * and its offloads from them.
     *
     * @param headerSize the size of the {@code virtio_net_hdr} in front of every frame, 10 or 12
     */
    void negotiated(long features, int headerSize) throws IOException;

    /**
     * Frames on their way to the guest that the host side dropped before the device read them,
     * as far as the port can tell (a TAP's kernel queue overflows while RX holds back for a
     * guest whose ring is empty); 0 for a port that drops none. Read from any thread, not on the
     * datapath.
     */
    default long hostDrops() {
        return 0;
    }

    /**
     * The driver takes frames on pairs {@code 0 .. pairs - 1} alone (virtio 1.2, 5.1.6.5.5: the
     * control queue's MQ_VQ_PAIRS_SET; every pair without one), and RX holds back on the others:
     * a port that spreads the host's frames over its queues stops giving the others any (a
     * multi-queue TAP detaches their queues, as QEMU's own TAP back-end does), so no flow is left
     * in a queue nobody reads. The control plane's thread, or the one serving the control queue.
     */
    default void receivingPairs(int pairs) throws IOException {
    }

    /** The queue of queue pair {@code pair}, below {@link #maxQueuePairs()}; the same object on every call. */
    PortQueue queue(int pair);

    @Override
    void close();
}
