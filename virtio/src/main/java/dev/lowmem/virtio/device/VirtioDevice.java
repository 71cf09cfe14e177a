package dev.lowmem.virtio.device;

import dev.lowmem.virtio.FeatureNegotiationException;

/**
 * A virtio device model as a transport drives it: the vhost-user back-end adapts any device to
 * the protocol, and a Java VMM can drive the same device directly (STYLE.md 6). Every method is
 * called from one control-plane thread.
 *
 * <p>The device owns the workers that process its queues; the transport owns the queues' state
 * and hands each running queue over as an {@link ActiveQueue}. A change of guest memory needs
 * nothing of the device: the transport swaps the rings of each running queue under that queue's
 * access lock, which the device's workers hold around every burst.
 */
public interface VirtioDevice {

    /** The feature bits the device offers (device-specific and transport-independent ones). */
    long deviceFeatures();

    /** The most queues the device can run; queue indices go from 0 below this. */
    int maxQueues();

    /**
     * How many queues the device reports to a vhost-user front-end's GET_QUEUE_NUM: the spec
     * says "queues", and front-ends read it in the unit they ask for queues in. QEMU's
     * vhost-user-net compares it with {@code -netdev ...,queues=N}, which counts queue pairs,
     * so a network device answers in pairs; by default, queues.
     */
    default int queueNumForFrontend() {
        return maxQueues();
    }

    /**
     * The driver's choice of features, a subset of {@link #deviceFeatures()}; comes before any
     * queue starts, and again only while none runs.
     */
    void acknowledgeFeatures(long features) throws FeatureNegotiationException;

    /**
     * Reads {@code length} bytes of the device configuration space from {@code offset}.
     *
     * @throws IllegalArgumentException when the range is outside the configuration space
     */
    byte[] readConfig(int offset, int length);

    /**
     * A driver's write to the configuration space.
     *
     * @throws IllegalArgumentException when the range is outside the configuration space or
     *         covers a field the driver may not write
     */
    void writeConfig(int offset, byte[] data);

    /**
     * Starts processing {@code queue}: watch its kick, and look at its rings once at once, for the
     * driver may have posted buffers before the queue ran, its kick signalled before anyone watched it.
     */
    void startQueue(ActiveQueue queue);

    /**
     * Stops processing queue {@code index}. When this returns, no worker watches the queue's kick
     * any more: the transport may close its eventfds.
     */
    void stopQueue(int index);

    /** Back to the state before negotiation; every queue has been stopped already. */
    void reset();

    /**
     * Whether the device can announce a guest's MAC address on its host side ({@link #announce}):
     * a vhost-user back-end offers the protocol feature RARP only then.
     */
    default boolean canAnnounce() {
        return false;
    }

    /**
     * After a live migration the front-end asks the device to tell the host's network where the
     * guest now is (vhost-user's SEND_RARP): the device sends a RARP announcement of {@code mac}
     * out of its host side, as QEMU's own network devices do. Must not block: the device sends it
     * from its own thread.
     *
     * @param mac six bytes, first on the wire first
     */
    default void announce(byte[] mac) {
        throw new UnsupportedOperationException("this device makes no announcements");
    }
}
