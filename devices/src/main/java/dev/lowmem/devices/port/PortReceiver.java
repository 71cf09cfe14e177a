package dev.lowmem.devices.port;

import java.io.IOException;

/**
 * The side of a {@link PortQueue} that gives frames to the guest: what the RX path reads from,
 * directly or through the device's RX backlog, which is one too. Used by one queue pair's worker
 * alone; never blocks.
 */
public interface PortReceiver {
    /** What {@link #nextFrameLength()} says when the port cannot tell before it reads. */
    long UNKNOWN_LENGTH = -1;

    /**
     * Gives one frame to the guest, header first, written into {@code buffers}.
     *
     * @return the frame's length with its header; 0 when the port has none now; more than
     *         {@link RxBuffers#capacity()} when the frame did not fit and was cut short, for the
     *         worker to drop and count (then not always the whole length: a TAP says capacity + 1)
     * @throws IOException when the port failed; the worker counts it and tries again later
     */
    long receive(RxBuffers buffers) throws IOException;

    /**
     * The length, header included, of the frame {@link #receive} would give now; 0 when there is
     * none; {@link #UNKNOWN_LENGTH} when the port cannot tell before it reads (a TAP). A port that
     * can tell lets RX offer the guest's buffers for that frame alone rather than for the largest
     * one, as vhost-net does by peeking at the socket's head.
     */
    default long nextFrameLength() {
        return UNKNOWN_LENGTH;
    }

    /**
     * Whether the port loses no frame however long RX leaves it waiting: a source makes its
     * frames when asked, a loopback holds the guest's transmits back. RX keeps no backlog of its
     * own for such a port; for one that loses frames when not read (a TAP's kernel queue
     * overflows) it does.
     */
    default boolean waitsWithoutLoss() {
        return false;
    }

    /**
     * The queue pair hands the port its RX queue as other threads may fill it ({@link DirectReceiver}),
     * once, when the pair is made. A port whose frames come from other threads (a switch port)
     * lets them write straight into the guest when it holds nothing older for it; others ignore it.
     */
    default void receiveDirectlyWith(DirectReceiver receiver) {
    }

    /** Frames the port holds for the guest that have not been received yet (a loopback's backlog). */
    default int backlog() {
        return 0;
    }

    /**
     * Drops what the port holds for the guest, as {@link #backlog()} counts it: the guest's RX
     * queue stopped or the device was reset, and what was held belonged to that driver
     * (docs/ARCHITECTURE.md, "A reset forgets"). A port whose queue is the host's (a TAP's kernel
     * queue) keeps it.
     *
     * @return the frames dropped
     */
    default int discard() {
        return 0;
    }
}
