package dev.lowmem.devices.port;

import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;
import java.io.IOException;

/**
 * One queue pair's way in and out of a {@link Port}, used by that pair's worker alone. Nothing
 * here blocks: a port that cannot take or give a frame now says so, and the worker waits on
 * {@link #fd()} (a TAP) or on its own next cycle (ports without an fd).
 */
public interface PortQueue {

    /**
     * The fd the worker waits on for frames to receive (EPOLLIN) or room to transmit
     * ({@link #roomEvent()}); null for a port with no fd, whose readiness changes only when the
     * worker itself calls it (a sink is always ready, a source always has a frame, a loopback has
     * frames after a transmit).
     */
    FileDescriptor fd();

    /**
     * The event on {@link #fd()} that says a full port has room again: EPOLLOUT for a socket or
     * a TAP. A port whose fd is an eventfd, always writable, says EPOLLIN instead and signals the
     * eventfd when room comes (a switch port, which waits for another port to drain).
     */
    default int roomEvent() {
        return LibC.EPOLLOUT;
    }

    /**
     * Before the worker sleeps on {@link #fd()}: a port whose fd other threads signal only when
     * asked (a switch port's doorbell) asks for it here, then looks once more for what the worker
     * waits for, since what came before the request signalled nothing. A port whose fd the kernel
     * keeps (a TAP) has nothing to do.
     *
     * @param wantsFrames RX would take a frame now
     * @param waitsForRoom TX waits for room in the port
     * @return true when what the worker waits for is there already: run a cycle instead of sleeping
     */
    default boolean prepareToSleep(boolean wantsFrames, boolean waitsForRoom) {
        return false;
    }

    /**
     * Takes one frame from the guest.
     *
     * @return false when the port is full: the worker gives the chain back and tries again once
     *         {@link #fd()} is writable or, without an fd, on its next cycle
     * @throws IOException when the port failed for this frame; the worker drops it and counts it
     */
    boolean transmit(TxFrame frame) throws IOException;

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

    long UNKNOWN_LENGTH = -1;

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

    /**
     * Whether a frame the device makes itself, a RARP announcement of the guest after a
     * migration, goes out through {@link #transmit}: true for a port with a host side to announce
     * on (a TAP, a switch port), false for one without (a loopback, a sink, a source), which
     * would only hand it back to the guest or throw it away.
     */
    default boolean carriesAnnouncements() {
        return false;
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
