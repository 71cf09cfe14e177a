package dev.lowmem.devices.net;

import dev.lowmem.vmm.core.event.PollWindow;
import java.time.Duration;

/**
 * How a virtio-net device is set up.
 *
 * @param mac the address in the config space (NET_MAC)
 * @param mtu the MTU advertised to the driver (NET_MTU), 68 to 65535
 * @param queuePairs RX/TX queue pairs, each with its own worker; more than one offers NET_MQ
 * @param pollWindow how long a worker polls after its last work before it sleeps, at the least
 * @param maxPollWindow the most that window grows to where the traffic shows polling longer saves
 *     wake-ups ({@link PollWindow}); equal to {@code pollWindow} for a fixed window
 */
public record NetDeviceOptions(MacAddress mac, int mtu, int queuePairs, Duration pollWindow, Duration maxPollWindow) {
    public static final MacAddress DEFAULT_MAC = MacAddress.parse("52:54:00:12:34:56");
    public static final int DEFAULT_MTU = 1500;
    /**
     * Long enough to catch the guest's next burst without a kick, short enough that on a 2-core
     * machine the spinning worker does not take the core QEMU's vCPU needs.
     */
    public static final Duration DEFAULT_POLL_WINDOW = Duration.ofNanos(50_000);
    /**
     * Long enough to catch a host's reply to a guest's request under TCG (a few hundred
     * microseconds) without the worker's sleep and wake-up; a wake-up costs at most this much
     * polling, and a thread that wakes on the worker's core preempts the spinning worker.
     */
    public static final Duration DEFAULT_MAX_POLL_WINDOW = Duration.ofNanos(500_000);
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
        if (pollWindow.isNegative() || maxPollWindow.compareTo(pollWindow) < 0) {
            throw new IllegalArgumentException("poll window from " + pollWindow + " to " + maxPollWindow
                    + ": it must not be negative, nor its most below its least");
        }
    }

    /** A window from {@code pollWindow} up to {@link #DEFAULT_MAX_POLL_WINDOW} (or fixed, when it is longer). */
    public NetDeviceOptions(MacAddress mac, int mtu, int queuePairs, Duration pollWindow) {
        this(mac, mtu, queuePairs, pollWindow,
                pollWindow.compareTo(DEFAULT_MAX_POLL_WINDOW) > 0 ? pollWindow : DEFAULT_MAX_POLL_WINDOW);
    }

    /** A worker's own window, adapting from {@code pollWindow} up to {@code maxPollWindow}. */
    PollWindow newPollWindow() {
        return PollWindow.adaptive(pollWindow, maxPollWindow);
    }

    public static NetDeviceOptions defaults() {
        return new NetDeviceOptions(DEFAULT_MAC, DEFAULT_MTU, 1, DEFAULT_POLL_WINDOW);
    }

    public NetDeviceOptions withQueuePairs(int pairs) {
        return new NetDeviceOptions(mac, mtu, pairs, pollWindow, maxPollWindow);
    }
}
