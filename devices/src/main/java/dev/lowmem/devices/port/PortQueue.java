package dev.lowmem.devices.port;

import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;

/**
 * One queue pair's way in and out of a {@link Port}, used by that pair's worker alone: its
 * {@link PortTransmitter} side (the guest's frames out) and {@link PortReceiver} side (frames in
 * for the guest), and what the worker waits on for both. Nothing here blocks: a port that cannot
 * take or give a frame now says so, and the worker waits on {@link #fd()} (a TAP) or on its own
 * next cycle (ports without an fd).
 */
public interface PortQueue extends PortTransmitter, PortReceiver {

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
}
