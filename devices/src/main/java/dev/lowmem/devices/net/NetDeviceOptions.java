package dev.lowmem.devices.net;

import java.time.Duration;

/**
 * How a virtio-net device is set up.
 *
 * @param mac the address in the config space (NET_MAC)
 * @param mtu the MTU advertised to the driver (NET_MTU), 68 to 65535
 * @param queuePairs RX/TX queue pairs, each with its own worker; more than one offers NET_MQ
 * @param pollWindow how long a worker busy-polls after its last work before it sleeps
 */
public record NetDeviceOptions(MacAddress mac, int mtu, int queuePairs, Duration pollWindow) {
    public static final MacAddress DEFAULT_MAC = MacAddress.parse("52:54:00:12:34:56");
    public static final int DEFAULT_MTU = 1500;
    /**
     * Long enough to catch the guest's next burst without a kick, short enough that on a 2-core
     * machine the spinning worker does not take the core QEMU's vCPU needs.
     */
    public static final Duration DEFAULT_POLL_WINDOW = Duration.ofNanos(50_000);
    /** As Linux's virtio_net and QEMU's MQ limits allow. */
    public static final int MAX_QUEUE_PAIRS = 256;
    public static final int MIN_MTU = 68;
    public static final int MAX_MTU = 65535;

    public NetDeviceOptions {
        if (mtu < MIN_MTU || mtu > MAX_MTU) {
            throw new IllegalArgumentException("MTU " + mtu + " is outside " + MIN_MTU + ".." + MAX_MTU);
        }
        if (queuePairs < 1 || queuePairs > MAX_QUEUE_PAIRS) {
            throw new IllegalArgumentException("queue pairs " + queuePairs + " is outside 1.." + MAX_QUEUE_PAIRS);
        }
        if (pollWindow.isNegative()) {
            throw new IllegalArgumentException("poll window must not be negative: " + pollWindow);
        }
    }

    public static NetDeviceOptions defaults() {
        return new NetDeviceOptions(DEFAULT_MAC, DEFAULT_MTU, 1, DEFAULT_POLL_WINDOW);
    }

    public NetDeviceOptions withQueuePairs(int pairs) {
        return new NetDeviceOptions(mac, mtu, pairs, pollWindow);
    }
}
