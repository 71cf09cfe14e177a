package dev.lowmem.devices.net;

import dev.lowmem.devices.port.DirectReceiver;
import dev.lowmem.devices.port.PortQueue;
import dev.lowmem.devices.port.TxFrame;
import dev.lowmem.virtio.device.ActiveQueue;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.pool.PacketPool;
import java.io.IOException;
import java.lang.foreign.Arena;

/**
 * The datapath of one RX/TX queue pair and its port queue (cloud-hypervisor's NetQueuePair):
 * {@link #doWork()} moves what there is to move and returns how many frames that was, so a
 * runner thread ({@link QueuePairWorker}) or an embedding VMM's own loop can drive it (STYLE.md 8).
 *
 * <p>The queues come and go from the control plane ({@link #attach}, {@link #detach}); each
 * burst runs inside its queue's access lock, which the control plane takes only to swap what the
 * burst reads. Apart from attaching, detaching and {@link #reset()}, one thread at a time calls
 * this object.
 *
 * <p>Whatever serving a queue throws, an {@link Error} too (SIGBUS on guest memory its front-end
 * cut short arrives as {@link InternalError}), stops that queue for good ({@link ActiveQueue#fault}),
 * counted and logged once; the pair goes on with its other queue, and with the queues of every
 * later driver (docs/ARCHITECTURE.md, "Faults in the datapath").
 */
public final class QueuePair {
    /** Frames per direction between publishing used entries: DPDK's and Linux vhost's order of magnitude. */
    static final int BURST = 32;

    /** Told of a queue that faulted, on the thread that runs the pair, inside the queue's access lock. */
    @FunctionalInterface
    interface FaultListener {
        void queueFaulted(ActiveQueue queue) throws NativeIoException;
    }

    private static final System.Logger LOG = System.getLogger(QueuePair.class.getName());

    private final int index;
    private final PortQueue port;
    private final QueuePairCounters counters = new QueuePairCounters();
    private final TransmitPath transmit;
    private final RxBacklog backlog;
    private final ReceivePath receive;
    private final Announcement announcement;
    private final NetControl control;
    /** Null unless this pair serves the device's control queue. */
    private final ControlPath controlPath;
    private final String rxName;
    private final String txName;
    private final String controlName = "the control queue";
    private volatile ActiveQueue rx;
    private volatile ActiveQueue tx;
    private volatile ActiveQueue controlQueue;
    /** Device resets so far: each one drops what the pair held for the driver before it. */
    private volatile int resets;
    private int resetsSeen;
    /**
     * The RX queue the last cycle served; when it goes, what was held for it goes too. Volatile
     * for {@link #receiveDirect}, which fills no RX queue before this pair has served it, so
     * never one whose predecessor's leftovers the worker has still to drop.
     */
    private volatile ActiveQueue servedRx;
    private boolean rxKicked;
    private boolean txKicked;
    private boolean controlKicked;
    /** Whether the driver was signalled (an RX or TX interrupt) since {@link #takeSignalled()}. */
    private boolean signalled;
    private FaultListener faultListener = queue -> { };

    /**
     * @param control        the device's control state: its receive filter and how many pairs receive
     * @param servesControl  this pair runs the device's control queue (pair 0 of a device that has one)
     * @param capture        where the device's frames are captured, if anywhere
     */
    QueuePair(int index, PortQueue port, int mtu, PacketPool pool, NetControl control, boolean servesControl,
            PacketCapture capture, Arena arena) {
        this.index = index;
        this.port = port;
        this.control = control;
        this.txName = "queue " + txQueue(index) + " (TX of pair " + index + ")";
        this.rxName = "queue " + rxQueue(index) + " (RX of pair " + index + ")";
        this.transmit = new TransmitPath(port, counters, new QueueWarnings(txName), capture, arena);
        this.backlog = new RxBacklog(port, pool, "RX of pair " + index, counters, arena);
        this.receive = new ReceivePath(backlog, control, counters, new QueueWarnings(rxName), capture, mtu, arena);
        this.announcement = new Announcement(counters, arena);
        this.controlPath = servesControl ? new ControlPath(control, counters, new QueueWarnings(controlName), arena)
                : null;
        configure(0);
        port.receiveDirectlyWith(this::receiveDirect);
    }

    /**
     * A {@link DirectReceiver}: on a sender's thread, one frame into this pair's RX queue if it
     * can take it now. A throw in here (memory of either guest gone from under the copy) says no
     * and nothing else: the sender then queues the frame, and the two copies of that way
     * fault the queue of whichever guest's memory it was, each on its own thread.
     */
    private boolean receiveDirect(TxFrame frame) {
        ActiveQueue rxQueue = servedRx;
        if (rxQueue == null || rxQueue != rx || !rxQueue.tryEnter()) {
            return false;
        }
        try {
            return receive.receiveDirect(rxQueue, frame);
        } catch (IOException | RuntimeException | Error e) {
            return false;
        } finally {
            rxQueue.exit();
        }
    }

    /** Who runs the pair learns of faulted queues: a runner stops watching their kicks. */
    void onQueueFault(FaultListener listener) {
        faultListener = listener;
    }

    /** The index of pair {@code pair}'s RX queue, as the transport numbers queues (virtio 1.2, 5.1.2). */
    public static int rxQueue(int pair) {
        return 2 * pair;
    }

    /** The index of pair {@code pair}'s TX queue. */
    public static int txQueue(int pair) {
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
        announcement.configure(features);
    }

    /**
     * Control plane: the queue runs from now; the caller then wakes the runner. A queue that is
     * neither of the pair's is the control queue, which the device hands only to the pair that serves it.
     */
    void attach(ActiveQueue queue) {
        if (queue.index() == rxQueue(index)) {
            rx = queue;
        } else if (queue.index() == txQueue(index)) {
            tx = queue;
        } else if (controlPath != null) {
            controlQueue = queue;
        } else {
            throw new IllegalArgumentException("queue " + queue.index() + " is not one of pair " + index + "'s");
        }
    }

    /** Control plane: the queue has stopped (its {@link ActiveQueue#stop()} returned). */
    ActiveQueue detach(int queueIndex) {
        ActiveQueue queue;
        if (queueIndex == rxQueue(index)) {
            queue = rx;
            rx = null;
        } else if (queueIndex == txQueue(index)) {
            queue = tx;
            tx = null;
        } else {
            queue = controlQueue;
            controlQueue = null;
        }
        return queue;
    }

    /**
     * Control plane: the device was reset. The next cycle drops what the pair holds for the
     * driver that went (its RX backlog, the port's frames for it), before it serves any queue of
     * the next one; the caller then wakes the runner.
     */
    void reset() {
        resets++;
    }

    /**
     * Control plane: the next cycle sends {@code rarpFrame} out of the port
     * ({@link Announcement}); the caller then wakes the runner.
     */
    void announce(byte[] rarpFrame) {
        announcement.request(rarpFrame);
    }

    /** The runner saw the queue's kick fire: the next cycle consumes it. */
    void kicked(int queueIndex) {
        if (queueIndex == rxQueue(index)) {
            rxKicked = true;
        } else if (queueIndex == txQueue(index)) {
            txKicked = true;
        } else {
            controlKicked = true;
        }
    }

    /**
     * One duty cycle: a burst of TX, then a burst of RX (after TX, so a loopback's frames come
     * back in the same cycle). The RX backlog draws on the packet pool while the RX queue runs.
     *
     * @return the frames moved
     */
    public int doWork() {
        ActiveQueue rxQueue = receiving();
        int resetsNow = resets;
        if (resetsNow != resetsSeen || rxQueue != servedRx && servedRx != null) {
            resetsSeen = resetsNow;
            rxStopped();
        }
        servedRx = rxQueue;
        if (rxQueue != null) {
            backlog.open();
        }
        if (announcement.hasPending()) {
            announcement.sendPending(port);
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
                stopIfRingBroken(txQueue, NetCounter.TX_FAULTS, txName);
            } catch (IOException | RuntimeException | Error e) {
                faulted(txQueue, NetCounter.TX_FAULTS, txName, e);
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
                stopIfRingBroken(rxQueue, NetCounter.RX_FAULTS, rxName);
            } catch (IOException | RuntimeException | Error e) {
                faulted(rxQueue, NetCounter.RX_FAULTS, rxName, e);
            } finally {
                rxQueue.exit();
            }
        }
        moved += serveControl();
        if (receive.takeInterrupted()) {
            signalled = true;
        }
        if (transmit.gaveBack()) {
            interruptForTransmitted(serving(tx));
        }
        backlog.drainReturns();
        return moved;
    }

    /** Whether this pair signalled the driver since the last call. */
    public boolean takeSignalled() {
        boolean was = signalled;
        signalled = false;
        return was;
    }

    /**
     * The TX interrupt comes after the RX burst, not before it: a reply to what was sent (a ping,
     * a TCP ACK) is often received in the same cycle, and two calls close together reach a guest
     * as one interrupt (QEMU raises one INTx line for both, or the guest's handler finds both
     * rings used), where a TX interrupt on its own costs the guest a second one before it sees
     * the reply: 1.85 interrupts a ping against 1.25 (docs/PERFORMANCE.md, "Round trips").
     */
    private void interruptForTransmitted(ActiveQueue txQueue) {
        if (txQueue == null || !txQueue.tryEnter()) {
            // A queue that went owes nothing; one the control plane holds a moment is signalled next cycle.
            return;
        }
        try {
            if (transmit.interruptIfAsked(txQueue)) {
                signalled = true;
            }
        } catch (IOException | RuntimeException | Error e) {
            faulted(txQueue, NetCounter.TX_FAULTS, txName, e);
        } finally {
            txQueue.exit();
        }
    }

    /**
     * The control queue's commands, after the bursts: a filter the driver changed applies from
     * the next cycle's frames. Its notifications are never turned off, for commands are rare;
     * {@link #prepareToSleep()} moves its event index past what was served.
     */
    private int serveControl() {
        ActiveQueue queue = serving(controlQueue);
        if (queue == null || !queue.tryEnter()) {
            return 0;
        }
        try {
            if (controlKicked) {
                controlKicked = false;
                queue.drainKick();
            }
            int served = controlPath.burst(queue, BURST);
            stopIfRingBroken(queue, NetCounter.CTRL_FAULTS, controlName);
            return served;
        } catch (IOException | RuntimeException | Error e) {
            faulted(queue, NetCounter.CTRL_FAULTS, controlName, e);
            return 0;
        } finally {
            queue.exit();
        }
    }

    /**
     * The RX queue if it runs and the driver lets this pair receive: a driver that set fewer
     * pairs (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET) gets no frames on the others' RX queues (5.1.6.5.5).
     */
    private ActiveQueue receiving() {
        return index < control.receivingPairs() ? serving(rx) : null;
    }

    /** The queue, unless it has faulted: a faulted queue is served no more than one that stopped. */
    private static ActiveQueue serving(ActiveQueue queue) {
        return queue == null || queue.fault() != null ? null : queue;
    }

    /**
     * A ring the guest broke (a {@link dev.lowmem.virtio.queue.QueueFault}: its avail index ran
     * too far ahead, say) has no sound next position: its queue stops like any faulted one, and
     * the driver learns that the device needs a reset.
     */
    private void stopIfRingBroken(ActiveQueue queue, NetCounter counter, String name) {
        if (queue.rings().fault() != null) {
            faulted(queue, counter, name, new BrokenRingException(queue.rings().describeFault()));
        }
    }

    /**
     * Stops {@code queue} for good; inside its access lock. Logged for each queue that faults,
     * which a driver must reset to end, so a log line per driver instance at most.
     */
    private void faulted(ActiveQueue queue, NetCounter counter, String name, Throwable cause) {
        queue.fault(cause);
        counters.increment(counter);
        LOG.log(System.Logger.Level.ERROR, name + " stopped on a fault; it waits for the driver to reset the device",
                cause);
        try {
            faultListener.queueFaulted(queue);
        } catch (NativeIoException e) {
            LOG.log(System.Logger.Level.ERROR, name + ": could not stop watching its kick", e);
        }
    }

    /** The runner stops: what the pair holds of the packet pool goes back; on the runner's thread. */
    void release() {
        rxStopped();
    }

    /** What was held for the RX queue that went (a stop, a fault, a reset) is dropped and counted. */
    private void rxStopped() {
        backlog.close();
        receive.stop();
    }

    /**
     * Before the runner sleeps: asks the guest to kick for what this pair waits for (TX chains
     * unless the port is full, RX buffers if starved), then looks once more, for a chain added
     * before the request was visible would bring no kick (virtio 1.2, 2.7.10); and asks the port
     * the same for what the pair waits on it for ({@link PortQueue#prepareToSleep}).
     *
     * @return true when there is work after all: run a cycle instead of sleeping
     */
    public boolean prepareToSleep() {
        ActiveQueue txQueue = tx;
        if (txQueue != null && !transmit.portFull() && moreAfterEnabling(txQueue, NetCounter.TX_FAULTS, txName)) {
            return true;
        }
        ActiveQueue rxQueue = receiving();
        if (rxQueue != null && receive.starved() && moreAfterEnabling(rxQueue, NetCounter.RX_FAULTS, rxName)) {
            return true;
        }
        ActiveQueue commands = serving(controlQueue);
        if (commands != null && moreAfterEnabling(commands, NetCounter.CTRL_FAULTS, controlName)) {
            return true;
        }
        return port.prepareToSleep(rxQueue != null && receive.wantsFrames(),
                serving(tx) != null && transmit.portFull());
    }

    private boolean moreAfterEnabling(ActiveQueue queue, NetCounter faults, String name) {
        if (!queue.tryEnter()) {
            // The control plane is swapping something and will signal the kick when done.
            return false;
        }
        try {
            return queue.rings().enableNotifications();
        } catch (RuntimeException | Error e) {
            faulted(queue, faults, name, e);
            return false;
        } finally {
            queue.exit();
        }
    }

    /**
     * The events the runner should wait for on the port's fd while asleep: EPOLLIN when RX could
     * take a frame, into the guest or its backlog, the port's {@link PortQueue#roomEvent()}
     * (EPOLLOUT but for an eventfd) when TX waits for room; no EPOLLIN while RX is starved and the
     * backlog full (back-pressure: the port keeps its frames until the guest's kick, STYLE.md 7).
     */
    public int portInterest() {
        int events = 0;
        if (receiving() != null && receive.wantsFrames()) {
            events |= LibC.EPOLLIN;
        }
        if (serving(tx) != null && transmit.portFull()) {
            events |= port.roomEvent();
        }
        return events;
    }
}
