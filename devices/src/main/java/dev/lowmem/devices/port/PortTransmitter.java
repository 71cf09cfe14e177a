package dev.lowmem.devices.port;

import java.io.IOException;

/**
 * The side of a {@link PortQueue} that takes the guest's frames: what the TX path and the
 * device's own announcements write to. Used by one queue pair's worker alone; never blocks.
 */
public interface PortTransmitter {

    /**
     * Takes one frame from the guest.
     *
     * @return false when the port is full: the worker gives the chain back and tries again once
     *         {@link PortQueue#fd()} is writable or, without an fd, on its next cycle
     * @throws IOException when the port failed for this frame; the worker drops it and counts it
     */
    boolean transmit(TxFrame frame) throws IOException;

    /**
     * Whether a frame the device makes itself, a RARP announcement of the guest after a
     * migration, goes out through {@link #transmit}: true for a port with a host side to announce
     * on (a TAP, a switch port), false for one without (a loopback, a sink, a source), which
     * would only hand it back to the guest or throw it away.
     */
    default boolean carriesAnnouncements() {
        return false;
    }
}
