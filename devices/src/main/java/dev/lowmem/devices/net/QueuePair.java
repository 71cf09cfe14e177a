package dev.lowmem.devices.net;

import dev.lowmem.devices.port.PortQueue;
import dev.lowmem.virtio.device.ActiveQueue;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.pool.PacketPool;
import java.lang.foreign.Arena;

/**
 * The datapath of one RX/TX queue pair and its port queue (cloud-hypervisor's NetQueuePair):
 * {@link #doWork()} moves what there is to move and returns how many frames that was, so a
 * runner thread ({@link QueuePairWorker}) or an embedding VMM's own loop can drive it (STYLE.md 8).
 *
 * <p>The queues come and go from the control plane ({@link #attach}, {@link #detach}); each
 * burst runs inside its queue's access lock, which the control plane takes only to swap what the
 * burst reads. Apart from attaching and detaching, one thread at a time calls this object.
 */
public final class QueuePair {
    /** Frames per direction between publishing used entries: DPDK's and Linux vhost's order of magnitude. */
    static final int BURST = 32;

    private final int index;
    private final PortQueue port;
    private final QueuePairCounters counters = new QueuePairCounters();
    private final TransmitPath transmit;
    private final RxBacklog backlog;
    private final ReceivePath receive;
    private volatile ActiveQueue rx;
    private volatile ActiveQueue tx;
    private boolean rxKicked;
    private boolean txKicked;

    QueuePair(int index, PortQueue port, int mtu, PacketPool pool, Arena arena) {
        this.index = index;
        this.port = port;
        this.transmit = new TransmitPath(port, counters, new QueueWarnings("queue " + txQueue(index)
                + " (TX of pair " + index + ")"), arena);
        this.backlog = new RxBacklog(port, pool, "RX of pair " + index, counters, arena);
        this.receive = new ReceivePath(backlog, counters, new QueueWarnings("queue " + rxQueue(index)
                + " (RX of pair " + index + ")"), mtu, arena);
        configure(0);
    }

    static int rxQueue(int pair) {
        return 2 * pair;
    }

    static int txQueue(int pair) {
        return 2 * pair + 1;
    }

    public int index() {
        return index;
    }

    public QueuePairCounters counters() {
        return counters;
    }

    public PortQueue port() {
        return port;
    }

    /** Frames waiting for the guest: those RX holds in its backlog and those the port holds; any thread. */
    public int backlog() {
        return backlog.backlog();
    }

    /** The driver's features; called while neither queue runs. */
    void configure(long features) {
        transmit.configure(features);
        receive.configure(features);
    }

    /** Control plane: the queue runs from now; the caller then wakes the runner. */
    void attach(ActiveQueue queue) {
        if (queue.index() == rxQueue(index)) {
            rx = queue;
        } else {
            tx = queue;
        }
    }

    /** Control plane: the queue has stopped (its {@link ActiveQueue#stop()} returned). */
    ActiveQueue detach(int queueIndex) {
        ActiveQueue queue;
        if (queueIndex == rxQueue(index)) {
            queue = rx;
            rx = null;
        } else {
            queue = tx;
            tx = null;
        }
        return queue;
    }

    /** The runner saw the queue's kick fire: the next cycle consumes it. */
    void kicked(int queueIndex) {
        if (queueIndex == rxQueue(index)) {
            rxKicked = true;
        } else {
            txKicked = true;
        }
    }

    /**
     * One duty cycle: a burst of TX, then a burst of RX (after TX, so a loopback's frames come
     * back in the same cycle). The RX backlog draws on the packet pool while the RX queue runs.
     *
     * @return the frames moved
     */
    public int doWork() throws NativeIoException {
        ActiveQueue rxQueue = rx;
        if (rxQueue != null) {
            backlog.open();
        } else {
            rxStopped();
        }
        int moved = 0;
        ActiveQueue txQueue = tx;
        if (txQueue != null && txQueue.tryEnter()) {
            try {
                if (txKicked) {
                    txKicked = false;
                    counters.add(NetCounter.TX_KICKS, txQueue.drainKick());
                    txQueue.rings().disableNotifications();
                }
                moved += transmit.burst(txQueue, BURST);
            } finally {
                txQueue.exit();
            }
        }
        if (rxQueue != null && rxQueue.tryEnter()) {
            try {
                if (rxKicked) {
                    rxKicked = false;
                    counters.add(NetCounter.RX_KICKS, rxQueue.drainKick());
                    rxQueue.rings().disableNotifications();
                }
                moved += receive.burst(rxQueue, BURST);
            } finally {
                rxQueue.exit();
            }
        }
        backlog.drainReturns();
        return moved;
    }

    /** The runner stops: what the pair holds of the packet pool goes back; on the runner's thread. */
    void release() {
        rxStopped();
    }

    private void rxStopped() {
        backlog.close();
        receive.stop();
    }

    /**
     * Before the runner sleeps: asks the guest to kick for what this pair waits for (TX chains
     * unless the port is full, RX buffers if starved), then looks once more, for a chain added
     * before the request was visible would bring no kick (virtio 1.2, 2.7.10).
     *
     * @return true when there is work after all: run a cycle instead of sleeping
     */
    public boolean prepareToSleep() {
        ActiveQueue txQueue = tx;
        if (txQueue != null && !transmit.portFull() && moreAfterEnabling(txQueue)) {
            return true;
        }
        ActiveQueue rxQueue = rx;
        return rxQueue != null && receive.starved() && moreAfterEnabling(rxQueue);
    }

    private static boolean moreAfterEnabling(ActiveQueue queue) {
        if (!queue.tryEnter()) {
            // The control plane is swapping something and will signal the kick when done.
            return false;
        }
        try {
            return queue.rings().enableNotifications();
        } finally {
            queue.exit();
        }
    }

    /**
     * The events the runner should wait for on the port's fd while asleep: EPOLLIN when RX could
     * take a frame, into the guest or its backlog, EPOLLOUT when TX waits for room; no EPOLLIN
     * while RX is starved and the backlog full (back-pressure: the port keeps its frames until
     * the guest's kick, STYLE.md 7).
     */
    public int portInterest() {
        int events = 0;
        if (rx != null && receive.wantsFrames()) {
            events |= LibC.EPOLLIN;
        }
        if (tx != null && transmit.portFull()) {
            events |= LibC.EPOLLOUT;
        }
        return events;
    }
}
