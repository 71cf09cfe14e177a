package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.port.LoopbackPort;
import dev.lowmem.devices.port.Port;
import dev.lowmem.devices.port.SinkPort;
import dev.lowmem.devices.port.SourcePort;
import dev.lowmem.devices.port.TapPort;
import java.io.IOException;

/** The host side the command connects the guest's NIC to: exactly one of the port options. */
sealed interface PortChoice {

    /**
     * Opens the port for {@code queuePairs} pairs.
     *
     * @throws StartupException when the host refuses it (a TAP that is busy or not ours to open),
     *         or naming the option whose value the port refuses
     */
    Port open(int queuePairs) throws StartupException;

    /** {@code --tap NAME}: the guest meets the host's network stack on a TAP device. */
    record Tap(String name) implements PortChoice {
        @Override
        public Port open(int queuePairs) throws StartupException {
            return openTap(queuePairs);
        }

        /** As {@link #open}, typed: a switch's uplink needs the TAP itself. */
        TapPort openTap(int queuePairs) throws StartupException {
            try {
                return TapPort.open(name, queuePairs);
            } catch (IllegalArgumentException e) {
                throw StartupException.badOption("--tap", e.getMessage(), e);
            } catch (IOException e) {
                // The TAP's own message says what the kernel refused and what to do about it.
                throw StartupException.failed(e.getMessage(), e);
            }
        }
    }

    /** {@code --loopback}: what the guest sends comes back to it. */
    record Loopback() implements PortChoice {
        @Override
        public Port open(int queuePairs) throws StartupException {
            try {
                return new LoopbackPort(queuePairs);
            } catch (IllegalArgumentException e) {
                throw StartupException.badOption("--queues", e.getMessage(), e);
            }
        }
    }

    /** {@code --sink}: what the guest sends is counted and dropped; {@code --sink-copy} reads each frame first. */
    record Sink(boolean copies) implements PortChoice {
        @Override
        public Port open(int queuePairs) {
            return copies ? SinkPort.copying() : SinkPort.dropping();
        }
    }

    /** {@code --source SIZE}: the guest receives generated frames of {@code frameSize} bytes. */
    record Source(int frameSize) implements PortChoice {
        /** The frame size is checked with the options: what the source refuses here is the number of pairs. */
        @Override
        public Port open(int queuePairs) throws StartupException {
            try {
                return new SourcePort(frameSize, queuePairs);
            } catch (IllegalArgumentException e) {
                throw StartupException.badOption("--queues", e.getMessage(), e);
            }
        }
    }
}
